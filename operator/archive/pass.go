package archive

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// DefaultPageSize is the list limit of a pass (flag --archive-sweep-page-size).
const DefaultPageSize = 500

// PassResult counts one pass.
type PassResult struct {
	Pages, Archived, Restored int
	// ResourceVersion is the list's: the watch resumes from it.
	ResourceVersion string
}

// Pass lists the archived sessions of namespace (empty: every namespace) as
// metadata, one page at a time, and brings back those with a restart request.
// Memory is one page of metadata. A failed patch does not end the pass; the
// errors are returned together.
func (w *Watcher) Pass(ctx context.Context, namespace string) (PassResult, error) {
	var res PassResult
	limit := w.PageSize
	if limit <= 0 {
		limit = DefaultPageSize
	}
	page := &metav1.PartialObjectMetadataList{}
	page.SetGroupVersionKind(sessionListGVK)
	opts := []client.ListOption{client.MatchingLabelsSelector{Selector: v1alpha1.ArchivedSelector()}, client.Limit(limit)}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	var errs []error
	for cont := ""; ; {
		page.Items = nil // the previous page is released here
		if err := w.Reader.List(ctx, page, append(opts, client.Continue(cont))...); err != nil {
			return res, fmt.Errorf("listing archived sessions (page %d): %w", res.Pages+1, err)
		}
		if res.Pages == 0 {
			// Every page of one list is served at the first page's resourceVersion.
			res.ResourceVersion = page.ResourceVersion
		}
		res.Pages++
		res.Archived += len(page.Items)
		for i := range page.Items {
			restored, err := w.restart(ctx, &page.Items[i], ByPass)
			if err != nil {
				errs = append(errs, err)
			}
			if restored {
				res.Restored++
			}
		}
		if cont = page.Continue; cont == "" {
			return res, errors.Join(errs...)
		}
	}
}

// restart brings m back if it asks for a restart and its namespace is managed.
// A request in a namespace that is not managed is left: no webhook checked that
// session, and the namespace-became-managed pass comes back for it.
func (w *Watcher) restart(ctx context.Context, m *metav1.PartialObjectMetadata, by string) (bool, error) {
	if !v1alpha1.RestartRequested(m.Annotations) {
		return false, nil
	}
	logger := log.FromContext(ctx).WithValues("session", klog.KObj(m))
	if w.Managed != nil {
		managed, err := w.Managed(ctx, m.Namespace)
		if err != nil {
			return false, err
		}
		if !managed {
			logger.V(1).Info("Restart request in a namespace that is not managed; left archived until it is")
			return false, nil
		}
	}
	if err := Unarchive(ctx, w.Writer, m.Namespace, m.Name); err != nil {
		return false, err
	}
	restoredTotal.WithLabelValues(by).Inc()
	logger.Info("Unarchived session with a restart request", "by", by)
	return true, nil
}
