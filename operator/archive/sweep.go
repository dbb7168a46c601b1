package archive

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// Defaults of the sweep's flags.
const (
	DefaultSweepInterval = 5 * time.Minute
	DefaultPageSize      = 500
)

// Sweeper is the backstop for restart requests the webhook did not see (it fails
// open, so a request made while it was down leaves the session archived and
// invisible to the operator). Every Interval it lists archived sessions as
// metadata only, page by page from the API server, and unarchives those with a
// restart request; the session then re-enters the cache and is restarted. Memory
// is one page of object metadata at a time.
//
// It is a manager Runnable that needs leader election (only the leader writes)
// and stops with the manager's context. The first pass runs one Interval after
// start, so that a start lists active sessions only.
type Sweeper struct {
	// Reader must read the API server (the manager's APIReader): archived sessions
	// are outside the cache by design.
	Reader client.Reader
	// Writer patches sessions.
	Writer client.Writer
	// Interval between passes; zero means DefaultSweepInterval.
	Interval time.Duration
	// PageSize is the list limit; zero means DefaultPageSize.
	PageSize int64
	// Namespace restricts the sweep as the operator is restricted; empty is all.
	Namespace string
	// Managed, when set, reports whether a namespace is managed: a restart
	// request in one that is not is left for when it is (the operator acts only
	// in managed namespaces, and no webhook checked that session).
	Managed func(ctx context.Context, namespace string) (bool, error)
}

// SweepResult counts one pass.
type SweepResult struct {
	Pages, Archived, Restored int
}

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (s *Sweeper) NeedLeaderElection() bool { return true }

// Start runs passes until ctx is done. A failed pass is logged and retried at the
// next tick; it never stops the manager.
func (s *Sweeper) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("archive-sweep")
	ctx = log.IntoContext(ctx, logger)
	interval := s.Interval
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		res, err := s.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			logger.Error(err, "Archive sweep failed; retrying at the next interval", "pages", res.Pages, "restored", res.Restored)
			continue
		}
		sweepsTotal.Inc()
		logger.V(1).Info("Archive sweep done", "pages", res.Pages, "archived", res.Archived, "restored", res.Restored)
	}
}

// Sweep makes one pass over every archived session.
func (s *Sweeper) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	limit := s.PageSize
	if limit <= 0 {
		limit = DefaultPageSize
	}
	page := &metav1.PartialObjectMetadataList{}
	page.SetGroupVersionKind(sessionListGVK)
	opts := []client.ListOption{client.MatchingLabelsSelector{Selector: v1alpha1.ArchivedSelector()}, client.Limit(limit)}
	if s.Namespace != "" {
		opts = append(opts, client.InNamespace(s.Namespace))
	}
	cont := ""
	var errs []error
	for {
		// One page at a time: the previous page's items are released here.
		page.Items = nil
		if err := s.Reader.List(ctx, page, append(opts, client.Continue(cont))...); err != nil {
			return res, fmt.Errorf("listing archived sessions (page %d): %w", res.Pages+1, err)
		}
		res.Pages++
		res.Archived += len(page.Items)
		for i := range page.Items {
			m := &page.Items[i]
			if !v1alpha1.RestartRequested(m.Annotations) {
				continue
			}
			if s.Managed != nil {
				managed, err := s.Managed(ctx, m.Namespace)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if !managed {
					log.FromContext(ctx).V(1).Info("Restart request in a namespace that is not managed; left archived", "session", klog.KObj(m))
					continue
				}
			}
			if err := Unarchive(ctx, s.Writer, m.Namespace, m.Name); err != nil {
				errs = append(errs, err)
				continue
			}
			res.Restored++
			sweepRestoredTotal.Inc()
			log.FromContext(ctx).Info("Unarchived session with a restart request", "session", klog.KObj(m))
		}
		// A failed patch does not end the pass: the other requests still count.
		if cont = page.Continue; cont == "" {
			return res, errors.Join(errs...)
		}
	}
}
