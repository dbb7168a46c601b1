package runnerpod

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// Build returns the runner pod for in (contract §3). It is a pure function of
// in: env entries the operator sets come in contract order, registry and
// session entries sorted by name, so rebuilding gives an identical pod.
func Build(in Inputs) *corev1.Pod {
	s := in.Session
	spec := corev1.PodSpec{
		// The runner's exit is the session's result; it is never restarted in place.
		RestartPolicy:                 corev1.RestartPolicyNever,
		TerminationGracePeriodSeconds: ptr.To(in.Runtime.TerminationGracePeriodSeconds),
		AutomountServiceAccountToken:  ptr.To(false),
		SecurityContext:               podSecurityContext(in.Config),
		Containers:                    []corev1.Container{runnerContainer(in)},
		Volumes:                       volumes(in),
	}
	// The runner talks to the backend with its BOT token file, not the pod's
	// identity; only MLflow's Kubernetes auth reads the SA token (§1.6, §3.3).
	if in.MLflowSecretCopied && in.MLflowKubernetesAuth {
		spec.ServiceAccountName = serviceAccountName(in)
		spec.AutomountServiceAccountToken = ptr.To(true)
	}
	if in.Runtime.NeedsInit() {
		spec.InitContainers = []corev1.Container{hydrateContainer(in)}
	}
	if in.Runtime.Persistent {
		spec.Containers = append(spec.Containers, stateSyncContainer(in))
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      v1alpha1.RunnerPodName(s.Name),
			Namespace: s.Namespace,
			// All three: the platform's two (Service selector, NetworkPolicy)
			// and ambient-code.io/runner, which our admission policies and pod
			// cache select on.
			Labels:          v1alpha1.RunnerLabels(s.Name),
			OwnerReferences: []metav1.OwnerReference{controllerReference(in.Owner)},
		},
		Spec: spec,
	}
}

// controllerReference is owner as the pod's controller: session reconciles are
// queued from pod events through it (§3.2).
func controllerReference(owner metav1.OwnerReference) metav1.OwnerReference {
	ref := *owner.DeepCopy()
	ref.Controller = ptr.To(true)
	return ref
}

// serviceAccountName is the session's ServiceAccount, ambient-session-N unless
// the caller names it.
func serviceAccountName(in Inputs) string {
	if in.ServiceAccount != "" {
		return in.ServiceAccount
	}
	return sessionServiceAccountPrefix + in.Session.Name
}
