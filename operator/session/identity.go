package session

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/runneridentity"
)

// ReasonRunnerIdentityLost is the event reason of a runner restarted because
// its identity could not be repaired while it ran.
const ReasonRunnerIdentityLost = "RunnerIdentityLost"

func (r *Reconciler) provisioner() *runneridentity.Provisioner {
	return &runneridentity.Provisioner{Client: r.Client, Live: r.APIReader, ClusterRole: r.Runner.RunnerClusterRole, Now: r.Now}
}

// checkIdentity compares a Running session's ServiceAccount, RoleBinding and
// token Secret with the ledger (no request when they are in place) and repairs
// what drifted. When the runner cannot go on with what is left (its token
// Secret, and the AG-UI token in it, is gone; a name is now held by another
// object) its pod is deleted and restarted reports true: the session restarts
// through the normal path, whose Ensure makes a new identity or refuses.
func (r *Reconciler) checkIdentity(ctx context.Context, s *v1alpha1.AgenticSession, pod *corev1.Pod) (restarted bool, err error) {
	if r.Identity == nil {
		return false, nil
	}
	owner := OwnerReference(s)
	drift := r.Identity.Check(s, owner, r.Runner.RunnerClusterRole)
	if !drift.Any() {
		return false, nil
	}
	logger := log.FromContext(ctx)
	logger.Info("Runner identity drifted; repairing", "serviceAccount", drift.ServiceAccount,
		"roleBinding", drift.RoleBinding, "tokenSecret", drift.Secret)
	why, err := r.provisioner().Repair(ctx, s, owner, drift)
	if err != nil {
		r.Recorder.Eventf(s, nil, corev1.EventTypeWarning, "RunnerIdentityRepairFailed", "RepairIdentity", "%v", err)
		return false, fmt.Errorf("repairing the runner identity of %s: %w", klog.KObj(s), err)
	}
	if why == "" || pod == nil {
		return false, nil
	}
	logger.Info("Restarting the runner", "reason", why)
	r.Recorder.Eventf(s, pod, corev1.EventTypeWarning, ReasonRunnerIdentityLost, "RestartRunner", "Restarting the runner: %s", why)
	if err := r.deletePod(ctx, s, pod); err != nil {
		return false, err
	}
	return true, nil
}

// releaseIdentity takes the active-runner label off a terminal session's
// identity objects that still carry it (known from the ledger: no request
// otherwise), so the drift watch holds active sessions only.
func (r *Reconciler) releaseIdentity(ctx context.Context, s *v1alpha1.AgenticSession) error {
	if r.Identity == nil {
		return nil
	}
	labelled := r.Identity.Labelled(s, OwnerReference(s))
	if !labelled.Any() {
		return nil
	}
	if err := r.provisioner().Release(ctx, s, labelled); err != nil {
		return fmt.Errorf("releasing the runner identity of %s: %w", klog.KObj(s), err)
	}
	log.FromContext(ctx).V(1).Info("Released the runner identity from the drift watch")
	return nil
}
