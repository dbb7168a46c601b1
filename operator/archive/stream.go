package archive

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// sessionResource is what the watch watches.
var sessionResource = v1alpha1.GroupVersion.WithResource("agenticsessions")

// stream runs one watch from rv until it ends, acting on each event as it
// comes. It returns the resourceVersion to resume from: that of the last event
// fully handled, so that an event whose patch failed is delivered again. opened
// reports that the API server accepted the watch.
func (w *Watcher) stream(ctx context.Context, rv string, newly *pending) (next string, opened bool, err error) {
	if w.Watch == nil {
		return rv, false, errNoWatch
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the request and the decoder's goroutine
	wi, err := w.Watch.Resource(sessionResource).Namespace(w.Namespace).Watch(ctx, metav1.ListOptions{
		LabelSelector:       v1alpha1.ArchivedSelector().String(),
		ResourceVersion:     rv,
		AllowWatchBookmarks: true, // rv advances with no events, so a resume rarely finds it compacted
	})
	if err != nil {
		return rv, false, fmt.Errorf("watching archived sessions from %q: %w", rv, err)
	}
	defer wi.Stop()
	var retry <-chan time.Time // a failed namespace pass waits for this
	for {
		select {
		case <-ctx.Done():
			return rv, true, nil
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return rv, true, nil
			}
			if rv, err = w.handle(ctx, rv, ev); err != nil {
				return rv, true, err
			}
		case <-newly.signal:
			if w.namespacePasses(ctx, newly) {
				retry = time.After(namespaceRetry)
			}
		case <-retry:
			retry = nil
			if w.namespacePasses(ctx, newly) {
				retry = time.After(namespaceRetry)
			}
		}
	}
}

// handle looks at one event and returns the resourceVersion to resume from
// after it. Nothing of the event is kept.
func (w *Watcher) handle(ctx context.Context, rv string, ev watch.Event) (string, error) {
	watchEventsTotal.WithLabelValues(string(ev.Type)).Inc()
	if ev.Type == watch.Error {
		return rv, fmt.Errorf("archive watch from %q: %w", rv, apierrors.FromObject(ev.Object))
	}
	m, ok := ev.Object.(*metav1.PartialObjectMetadata)
	if !ok {
		return rv, fmt.Errorf("archive watch: unexpected %T in a %s event", ev.Object, ev.Type)
	}
	if ev.Type == watch.Added || ev.Type == watch.Modified {
		if _, err := w.restart(ctx, m, ByWatch); err != nil {
			log.FromContext(ctx).V(1).Info("Acting on a restart request failed; the event will be delivered again", "error", err.Error())
			return rv, err
		}
	}
	if m.ResourceVersion != "" {
		rv = m.ResourceVersion
	}
	return rv, nil
}

// isExpired reports whether err says the watch's history is gone: 410, as an
// answer or as an error event ("too old resource version", etcd compacted).
func isExpired(err error) bool {
	if err == nil {
		return false
	}
	if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
		return true
	}
	var status apierrors.APIStatus
	return errors.As(err, &status) && status.Status().Code == http.StatusGone
}
