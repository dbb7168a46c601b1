package webhook

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
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
	// half a second of reviews at 1,000/s. It was 32, which a healthy webhook on a
	// busy node reached at 1,000/s whenever it lost the CPU for 30 ms; memory is
	// bounded by DefaultMaxInFlightBytes instead.
	DefaultMaxInFlight = 512
	// DefaultMaxInFlightBytes bounds the request bodies held at once, by their
	// Content-Length (maxReviewBytes when a body has none): half the 256 MiB the
	// Deployment allows, 18 reviews of the 7 MiB maximum or thousands of the
	// 10-30 KiB the API server sends for sessions and runner pods.
	DefaultMaxInFlightBytes = 128 << 20
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

// inFlight bounds the reviews and the body bytes in flight, shared by every endpoint.
type inFlight struct {
	reviews  chan struct{}
	bytes    *semaphore.Weighted
	maxBytes int64
}

func newInFlight(reviews int, bytes int64) *inFlight {
	return &inFlight{reviews: make(chan struct{}, reviews), bytes: semaphore.NewWeighted(bytes), maxBytes: bytes}
}

// acquire takes a slot and the body's bytes, or answers 429 at once, without
// reading the body, when either bound is reached: the API server then applies
// the registration's failure policy instead of waiting on a webhook that is
// already as busy as it may get. It returns the weight to release.
func (s *inFlight) acquire(w http.ResponseWriter, r *http.Request) (int64, bool) {
	select {
	case s.reviews <- struct{}{}:
	default:
		s.reject(w, "too many admission reviews in flight: at most "+strconv.Itoa(cap(s.reviews)))
		return 0, false
	}
	// A body longer than the cap is refused after reading the cap and one byte.
	n := r.ContentLength
	if n < 0 || n > maxReviewBytes+1 {
		n = maxReviewBytes + 1
	}
	if !s.bytes.TryAcquire(n) {
		<-s.reviews
		s.reject(w, "too many admission review bytes in flight: at most "+strconv.FormatInt(s.maxBytes, 10))
		return 0, false
	}
	return n, true
}

func (s *inFlight) reject(w http.ResponseWriter, msg string) {
	inFlightRejectedTotal.Inc()
	w.Header().Set("Retry-After", "1")
	http.Error(w, msg, http.StatusTooManyRequests)
}

func (s *inFlight) release(n int64) {
	s.bytes.Release(n)
	<-s.reviews
}
