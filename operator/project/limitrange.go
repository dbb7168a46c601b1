package project

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// LimitRangeName is the project's default container limits, as the platform
// names them.
const LimitRangeName = "ambient-default-limits"

// BuildLimitRange returns the LimitRange the platform gives every project:
// containers without requests or limits (the runner pod sets none) get 250m and
// 256Mi requested and 2 CPUs and 4Gi as limits. Controlled by ps, so that it
// goes with the ProjectSettings; created when absent and never updated, as the
// platform does, so that an administrator's edit stays.
func BuildLimitRange(ps *v1alpha1.ProjectSettings) *corev1.LimitRange {
	return &corev1.LimitRange{
		ObjectMeta: metav1.ObjectMeta{
			Name:            LimitRangeName,
			Namespace:       ps.Namespace,
			Labels:          map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue},
			OwnerReferences: []metav1.OwnerReference{OwnerReference(ps)},
		},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type: corev1.LimitTypeContainer,
			DefaultRequest: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("250m"),
				corev1.ResourceMemory: resource.MustParse("256Mi"),
			},
			Default: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("2"),
				corev1.ResourceMemory: resource.MustParse("4Gi"),
			},
		}}},
	}
}
