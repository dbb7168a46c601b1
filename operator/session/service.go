package session

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// BuildService returns the ClusterIP Service in front of s's runner. It selects the
// two platform labels (not the runner label), as the platform's Service does,
// on the runner's port (the registry entry's).
func BuildService(s *v1alpha1.AgenticSession, port int32) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name:      v1alpha1.ServiceName(s.Name),
			Namespace: s.Namespace,
			Labels: map[string]string{
				v1alpha1.LabelApp:     v1alpha1.RunnerAppName,
				v1alpha1.LabelSession: s.Name,
			},
			OwnerReferences: []metav1.OwnerReference{OwnerReference(s)},
		},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP,
			Selector: map[string]string{
				v1alpha1.LabelApp:     v1alpha1.RunnerAppName,
				v1alpha1.LabelSession: s.Name,
			},
			Ports: []corev1.ServicePort{{
				Name:       v1alpha1.RunnerPortName,
				Port:       port,
				TargetPort: intstr.FromString(v1alpha1.RunnerPortName),
				Protocol:   corev1.ProtocolTCP,
			}},
		},
	}
}
