// Package webhook holds the admission handlers that make invariants I1-I3 of
// ARCHITECTURE.md true of everything the API server stores: runner-pod labels
// (mutating and validating) and one condition per type on AgenticSessions.
package webhook

import (
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
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
}

// Routes returns the admission endpoints keyed by path. Each handler is a
// controller-runtime admission.Webhook, so request decoding, the 7 MiB body cap,
// 400 answers and the echo of UID and apiVersion come from controller-runtime.
func Routes(opts Options) map[string]http.Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return map[string]http.Handler{
		PathMutatePod:     newWebhook(opts, "pod-mutator", podMutator{}),
		PathValidatePod:   newWebhook(opts, "pod-validator", podValidator{}),
		PathMutateSession: newWebhook(opts, "session-mutator", sessionMutator{now: opts.Now}),
	}
}

func newWebhook(opts Options, name string, h admission.Handler) *admission.Webhook {
	wh := &admission.Webhook{Handler: h}
	if opts.Log.GetSink() != nil {
		base := opts.Log.WithName(name)
		wh.LogConstructor = func(_ logr.Logger, req *admission.Request) logr.Logger {
			return admission.DefaultLogConstructor(base, req)
		}
	}
	return wh
}
