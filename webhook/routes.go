// Package webhook holds the admission handlers that make a few things true of
// everything the API server stores, whoever writes it: runner pods carry their
// owner's runner labels and only the operator creates or re-parents them
// (mutating and validating), and AgenticSessions have one condition per type.
// The operator's label-scoped cache and pooled runner client rely on them.
package webhook

import (
	"net/http"
	"time"

	"github.com/go-logr/logr"
)

// The admission endpoints, as config/webhook registers them.
const (
	PathMutatePod     = "/mutate-v1-pod"
	PathValidatePod   = "/validate-v1-pod"
	PathMutateSession = "/mutate-agenticsession"
)

// Options configures the admission handlers.
type Options struct {
	// Now is the admission time written into conditions that lack a
	// lastTransitionTime; nil means time.Now.
	Now func() time.Time
	// Log is the base logger; the zero value means controller-runtime's.
	Log logr.Logger
	// RunnerCreators are the usernames (system:serviceaccount:<ns>:<name> for a
	// ServiceAccount) allowed to create pods controlled by an AgenticSession and
	// to archive sessions: the operator's identity. Empty leaves both open to
	// anyone, for a cluster where the operator's identity is not known yet.
	RunnerCreators []string
	// BodyReadTimeout bounds the reading of a request body; zero means
	// DefaultBodyReadTimeout.
	BodyReadTimeout time.Duration
	// MaxInFlight bounds the reviews handled at once; zero means
	// DefaultMaxInFlight.
	MaxInFlight int
	// MaxInFlightBytes bounds the request bodies held at once, by their
	// Content-Length; zero means DefaultMaxInFlightBytes.
	MaxInFlightBytes int64

	// bound is the in-flight semaphore the endpoints of one Routes share.
	bound *inFlight
}

// Routes returns the admission endpoints keyed by path. Each decodes its review
// in one pass into the views its rules read (review.go); controller-runtime's
// webhook server, which they are registered on, adds its request metrics.
func Routes(opts Options) map[string]http.Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BodyReadTimeout <= 0 {
		opts.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	if opts.MaxInFlightBytes <= 0 {
		opts.MaxInFlightBytes = DefaultMaxInFlightBytes
	}
	creators := newIdentities(opts.RunnerCreators)
	pods := podRules{creators: creators}
	opts.bound = newInFlight(opts.MaxInFlight, opts.MaxInFlightBytes)
	return map[string]http.Handler{
		PathMutatePod:     newEndpoint(opts, "pod-mutator", pods.mutate),
		PathValidatePod:   newEndpoint(opts, "pod-validator", pods.validate),
		PathMutateSession: newEndpoint(opts, "session-mutator", sessionMutator{now: opts.Now, archivers: creators}.handle),
	}
}
