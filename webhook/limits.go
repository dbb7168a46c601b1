package webhook

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Bounds that keep a client from exhausting the webhook. The API server sends
// a review in one write and waits at most the registration's timeoutSeconds
// (10 s at most in config/webhook) for the answer, so a body still arriving
// after the body deadline, or a review beyond the in-flight bound, is from a
// client that is not the API server, or from one already past its own timeout.
const (
	// DefaultBodyReadTimeout bounds the reading of one request body.
	DefaultBodyReadTimeout = 10 * time.Second
	// DefaultMaxInFlight bounds the reviews handled at once, across endpoints:
	// at 7 MiB each at most, a few hundred MiB in the worst case.
	DefaultMaxInFlight = 32
	// initialBodyBuffer is where a body buffer starts: it grows with what
	// arrives, not with what Content-Length announces.
	initialBodyBuffer = 16 << 10
	// maxConditionEntries bounds status.conditions, counted while the status is
	// scanned and before any condition is decoded into a map. Far above the 64
	// distinct types allowed, so a writer that appends instead of upserting is
	// still collapsed rather than refused.
	maxConditionEntries = 1024
)

var inFlightRejectedTotal = prometheus.NewCounter(prometheus.CounterOpts{
	Namespace: "ambient",
	Subsystem: "webhook",
	Name:      "in_flight_rejected_total",
	Help:      "Admission requests answered 429 because the bound on reviews in flight was reached.",
})

func init() {
	metrics.Registry.MustRegister(inFlightRejectedTotal)
}

// inFlight is a semaphore shared by every endpoint.
type inFlight chan struct{}

// acquire takes a slot, or answers 429 at once, without reading the body, when
// the bound is reached: the API server then applies the registration's failure
// policy instead of waiting on a webhook that is already as busy as it may get.
func (s inFlight) acquire(w http.ResponseWriter) bool {
	select {
	case s <- struct{}{}:
		return true
	default:
		inFlightRejectedTotal.Inc()
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many admission reviews in flight: at most "+strconv.Itoa(cap(s)), http.StatusTooManyRequests)
		return false
	}
}

func (s inFlight) release() { <-s }
