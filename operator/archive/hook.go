package archive

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// Hook archives sessions as the session reconciler's SettledHook: it is called
// for a terminal session whose status is recorded and whose runner pod is absent
// from the cache.
type Hook struct {
	// Reader must read the API server (the manager's APIReader): the pod cache may
	// lag, and Services are not cached at all.
	Reader client.Reader
	// Writer patches the session.
	Writer client.Writer
}

// Settled implements session.SettledHook.
func (h Hook) Settled(ctx context.Context, s *v1alpha1.AgenticSession) error {
	logger := log.FromContext(ctx)
	if reason := Check(s); reason != Archivable {
		logger.V(4).Info("Not archiving", "reason", reason)
		return nil
	}
	gone, err := RunnerGone(ctx, h.Reader, s)
	if err != nil {
		return err
	}
	if !gone {
		logger.V(1).Info("Not archiving yet", "reason", RunnerObjectLeft)
		return nil
	}
	written, err := Archive(ctx, h.Writer, s)
	if err != nil {
		return err
	}
	if !written {
		// Changed since read: the newer version arrives through the watch.
		logger.V(1).Info("Session changed before it could be archived; waiting for the newer version")
		return nil
	}
	archivedTotal.Inc()
	logger.Info("Archived session", "phase", s.Status.Phase)
	return nil
}
