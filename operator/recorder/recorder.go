// Package recorder writes the operator's events.k8s.io Events with memory that
// stays bounded whatever the event rate.
//
// client-go's events broadcaster (what the manager's GetEventRecorder returns)
// keeps every Event it sent in a map for 6 to 12 minutes, to count repeats as a
// series: about 1 KB per event, so a burst of session starts (two or three
// events each) holds megabytes long after it ended, in proportion to the rate.
// This Recorder keeps a bounded queue of Events to send and a bounded,
// expiring set of recent ones to drop identical repeats of; when the queue is
// full an Event is dropped and counted
// (ambient_operator_events_dropped_total), never waited for: a reconcile is
// never held up by event writes.
package recorder

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/cache"
	eventsclient "k8s.io/client-go/kubernetes/typed/events/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/record/util"
	"k8s.io/client-go/tools/reference"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

const (
	// DefaultQueue bounds the Events waiting to be sent (about 1 KB each).
	DefaultQueue = 1000
	// DefaultWorkers send Events concurrently, so that a slow API server
	// delays them rather than fills the queue at once.
	DefaultWorkers = 4
	// repeatWindow is how long an identical Event (same object, type,
	// reason, action and note) is not sent again; recentSize bounds how many
	// are remembered.
	repeatWindow = time.Minute
	recentSize   = 512
	// noteLimit is the API server's limit on an Event's note.
	noteLimit = 1024
	// sendTimeout bounds one create.
	sendTimeout = 10 * time.Second
)

var droppedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "ambient",
	Subsystem: "operator",
	Name:      "events_dropped_total",
	Help:      "Events the operator did not write, by reason: queue_full (more were waiting than it keeps), failed (the API server refused the create).",
}, []string{"reason"})

func init() {
	metrics.Registry.MustRegister(droppedTotal)
	for _, r := range []string{"queue_full", "failed"} {
		droppedTotal.WithLabelValues(r)
	}
}

// Recorder implements events.EventRecorder. Events recorded before Start are
// queued; Start sends them until its context ends.
type Recorder struct {
	scheme               *runtime.Scheme
	sink                 eventsclient.EventsGetter
	controller, instance string
	workers              int
	now                  func() time.Time

	queue  chan *eventsv1.Event
	mu     sync.Mutex
	recent *cache.LRUExpireCache
}

var _ events.EventRecorder = (*Recorder)(nil)

// New returns a Recorder that creates Events through sink as reporting
// controller controller (its instance is controller-hostname, as client-go
// names it); scheme resolves the objects' kinds.
func New(sink eventsclient.EventsGetter, scheme *runtime.Scheme, controller string) *Recorder {
	host, _ := os.Hostname()
	r := &Recorder{scheme: scheme, sink: sink, controller: controller, instance: controller + "-" + host,
		workers: DefaultWorkers, now: time.Now, queue: make(chan *eventsv1.Event, DefaultQueue)}
	r.recent = cache.NewLRUExpireCacheWithClock(recentSize, clockFunc(func() time.Time { return r.now() }))
	return r
}

// clockFunc is a clock for the repeat set: the Recorder's own.
type clockFunc func() time.Time

func (c clockFunc) Now() time.Time { return c() }

// Eventf implements events.EventRecorder. It never blocks.
func (r *Recorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	message := fmt.Sprintf(note, args...)
	if !util.ValidateEventType(eventtype) {
		klog.Background().Error(nil, "Unsupported event type; not recording the event", "eventType", eventtype, "reason", reason)
		return
	}
	ref, err := reference.GetReference(r.scheme, regarding)
	if err != nil {
		klog.Background().Error(err, "Could not reference the object of an event; not recording it", "reason", reason, "note", message)
		return
	}
	if len(message) > noteLimit {
		n := noteLimit
		for n > 0 && !utf8.RuneStart(message[n]) {
			n-- // not through a character
		}
		message = message[:n]
	}
	key := fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%s", ref.UID, eventtype, reason, action, message)
	r.mu.Lock()
	_, repeat := r.recent.Get(key)
	if !repeat {
		r.recent.Add(key, struct{}{}, repeatWindow)
	}
	r.mu.Unlock()
	if repeat {
		return
	}
	now := r.now()
	ns := ref.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	ev := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: util.GenerateEventName(ref.Name, now.UnixNano()), Namespace: ns},
		EventTime:           metav1.MicroTime{Time: now},
		ReportingController: r.controller,
		ReportingInstance:   r.instance,
		Action:              action,
		Reason:              reason,
		Regarding:           *ref,
		Note:                message,
		Type:                eventtype,
	}
	if related != nil {
		if rel, err := reference.GetReference(r.scheme, related); err == nil {
			ev.Related = rel
		}
	}
	select {
	case r.queue <- ev:
	default:
		droppedTotal.WithLabelValues("queue_full").Inc()
	}
}

// Start implements the manager's Runnable: its workers send queued Events until
// ctx ends; what is still queued then is dropped.
func (r *Recorder) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("events")
	var wg sync.WaitGroup
	for range r.workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case ev := <-r.queue:
					r.send(ctx, logger, ev)
				}
			}
		})
	}
	wg.Wait()
	return nil
}

func (r *Recorder) send(ctx context.Context, logger klog.Logger, ev *eventsv1.Event) {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if _, err := r.sink.Events(ev.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		droppedTotal.WithLabelValues("failed").Inc()
		logger.V(1).Info("Event not written", "regarding", klog.KRef(ev.Regarding.Namespace, ev.Regarding.Name),
			"reason", ev.Reason, "error", err.Error())
	}
}

// NeedLeaderElection is false: a replica that does not lead records nothing,
// and one that stops leading must not keep its queue waiting.
func (r *Recorder) NeedLeaderElection() bool { return false }
