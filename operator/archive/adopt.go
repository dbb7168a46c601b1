package archive

import (
	"context"
	"fmt"
	"io"
	"sync"

	"golang.org/x/sync/errgroup"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// AdoptOptions configure an adoption pass.
type AdoptOptions struct {
	// Namespace restricts the pass; empty is every namespace.
	Namespace string
	// PageSize is the list limit; zero means DefaultPageSize.
	PageSize int64
	// Workers bounds the concurrent pod/Service reads and patches within a page;
	// zero means 8.
	Workers int
	// DryRun decides and reports without writing.
	DryRun bool
	// Out, when set, gets one line per session archived (or, in a dry run, that
	// would be).
	Out io.Writer
}

// AdoptResult counts sessions by what the pass decided.
type AdoptResult struct {
	Scanned int
	// ByReason counts each session under the Reason it got; Archivable ones
	// were archived (or, in a dry run, would have been).
	ByReason map[Reason]int
	// Changed counts archivable sessions that changed between list and patch;
	// they are left for the operator (or a rerun).
	Changed int
}

// Adopt labels archived every terminal session of an existing cluster that has
// no pending restart and no runner pod or Service, so that the operator's first
// start lists active sessions only. It pages through unarchived sessions (reader
// should read the API server) and checks pods and Services by name, uncached.
// It is idempotent: a rerun scans only what is still unarchived.
func Adopt(ctx context.Context, reader client.Reader, writer client.Writer, opts AdoptOptions) (AdoptResult, error) {
	res := AdoptResult{ByReason: map[Reason]int{}}
	limit, workers := opts.PageSize, opts.Workers
	if limit <= 0 {
		limit = DefaultPageSize
	}
	if workers <= 0 {
		workers = 8
	}
	list := []client.ListOption{client.MatchingLabelsSelector{Selector: v1alpha1.NotArchivedSelector()}, client.Limit(limit)}
	if opts.Namespace != "" {
		list = append(list, client.InNamespace(opts.Namespace))
	}
	var mu sync.Mutex // guards res and Out between workers
	page := &v1alpha1.AgenticSessionList{}
	for cont := ""; ; {
		page.Items = nil
		if err := reader.List(ctx, page, append(list, client.Continue(cont))...); err != nil {
			return res, fmt.Errorf("listing sessions: %w", err)
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(workers)
		for i := range page.Items {
			s := &page.Items[i]
			g.Go(func() error {
				reason, changed, err := adoptOne(gctx, reader, writer, s, opts.DryRun)
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				res.Scanned++
				if changed {
					res.Changed++
					return nil
				}
				res.ByReason[reason]++
				if reason == Archivable && opts.Out != nil {
					verb := "archived"
					if opts.DryRun {
						verb = "would archive"
					}
					fmt.Fprintf(opts.Out, "%s %s (%s)\n", verb, klog.KObj(s), s.Status.Phase)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return res, err
		}
		if cont = page.Continue; cont == "" {
			return res, nil
		}
	}
}

// adoptOne decides one session and, unless dryRun, archives it. changed reports
// an archivable session that changed before the patch (Conflict).
func adoptOne(ctx context.Context, reader client.Reader, writer client.Writer, s *v1alpha1.AgenticSession, dryRun bool) (Reason, bool, error) {
	reason := Check(s)
	if reason != Archivable {
		return reason, false, nil
	}
	gone, err := RunnerGone(ctx, reader, s)
	if err != nil {
		return "", false, err
	}
	if !gone {
		return RunnerObjectLeft, false, nil
	}
	if dryRun {
		return Archivable, false, nil
	}
	written, err := Archive(ctx, writer, s)
	if err != nil {
		return "", false, err
	}
	return Archivable, !written, nil
}
