package webhook

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	sigsjson "sigs.k8s.io/json"
)

// The one-pass decoder (review.go) is kept only because it costs clearly less
// than controller-runtime's admission.Webhook doing the same work. These are
// that alternative, with this package's rules (the very handler functions
// Routes configures) called on what controller-runtime decoded:
//
//   - "controller-runtime": admission.Webhook decodes the AdmissionReview into an
//     admission.Request, and the handler decodes the RawExtensions it reads into
//     the same views, with sigs.k8s.io/json as apimachinery's JSON serializer
//     does. This is the cheapest controller-runtime webhook there can be.
//   - "controller-runtime-typed" (pods only): the handler decodes a corev1.Pod
//     with admission.Decoder, as a kubebuilder webhook does, and hands the rules
//     its metadata. Sessions have no typed variant: a typed AgenticSession would
//     drop the unknown condition keys the mutator must keep.
//
// TestControllerRuntimeEquivalent holds every variant to the same answers on
// every fixture; BenchmarkAdmission runs them on the same bodies in one run.

// viewsWebhook serves the handler of our endpoint h through admission.Webhook.
// The request argument only names the endpoint's view types.
func viewsWebhook[Obj, Old any](h http.Handler, _ *request[Obj, Old]) http.Handler {
	return &admission.Webhook{Handler: viewsHandler[Obj, Old]{handle: h.(*endpoint[Obj, Old]).handle}}
}

type viewsHandler[Obj, Old any] struct{ handle handlerFunc[Obj, Old] }

func (v viewsHandler[Obj, Old]) Handle(ctx context.Context, req admission.Request) admission.Response {
	r := &request[Obj, Old]{AdmissionRequest: req.AdmissionRequest}
	if err := decodeView(req.Object, &r.Object); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	// A handler that does not read the old object does not decode it.
	if _, unused := any(r.OldObject).(*unread); !unused {
		if err := decodeView(req.OldObject, &r.OldObject); err != nil {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("oldObject: %w", err))
		}
	}
	return v.handle(ctx, r)
}

// decodeView decodes raw into a view; an absent object leaves it nil, as JSON null does.
func decodeView[T any](raw runtime.RawExtension, into **T) error {
	if len(raw.Raw) == 0 {
		return nil
	}
	return sigsjson.UnmarshalCaseSensitivePreserveInts(raw.Raw, into)
}

var podDecoder = admission.NewDecoder(clientgoscheme.Scheme)

// typedPodWebhook serves the pod handler of our endpoint h through
// admission.Webhook, decoding a corev1.Pod (and the old one for the validator)
// with admission.Decoder.
func typedPodWebhook[Old any](h http.Handler, _ *request[podView, Old]) http.Handler {
	handle := h.(*endpoint[podView, Old]).handle
	return &admission.Webhook{Handler: admission.HandlerFunc(func(ctx context.Context, req admission.Request) admission.Response {
		r := &request[podView, Old]{AdmissionRequest: req.AdmissionRequest}
		// Other kinds and operations are answered before the object is read, and
		// a Deployment does not decode as a Pod.
		if req.Kind.Group != "" || req.Kind.Kind != kindPod || (req.Operation != admissionv1.Create && req.Operation != admissionv1.Update) {
			return handle(ctx, r)
		}
		var pod corev1.Pod
		if err := podDecoder.Decode(req, &pod); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		r.Object = podViewOf(&pod.ObjectMeta)
		if view, reads := any(&r.OldObject).(**podView); reads && req.Operation == admissionv1.Update {
			var old corev1.Pod
			if err := podDecoder.DecodeRaw(req.OldObject, &old); err != nil {
				return admission.Errored(http.StatusBadRequest, fmt.Errorf("oldObject: %w", err))
			}
			*view = podViewOf(&old.ObjectMeta)
		}
		return handle(ctx, r)
	})}
}

// podViewOf is the view the pod rules read, taken from a decoded pod.
func podViewOf(meta *metav1.ObjectMeta) *podView {
	v := &podView{}
	v.Metadata.Name, v.Metadata.GenerateName = meta.Name, meta.GenerateName
	v.Metadata.Labels, v.Metadata.OwnerReferences = meta.Labels, meta.OwnerReferences
	return v
}

type admissionImpl struct {
	name   string
	routes map[string]http.Handler
}

// admissionImpls are our routes and the controller-runtime variants of them.
func admissionImpls() []admissionImpl {
	ours := testRoutes()
	return []admissionImpl{
		{"one-pass", ours},
		{"controller-runtime", map[string]http.Handler{
			PathMutatePod:     viewsWebhook(ours[PathMutatePod], (*request[podView, unread])(nil)),
			PathValidatePod:   viewsWebhook(ours[PathValidatePod], (*request[podView, podView])(nil)),
			PathMutateSession: viewsWebhook(ours[PathMutateSession], (*sessionRequest)(nil)),
		}},
		{"controller-runtime-typed", map[string]http.Handler{
			PathMutatePod:   typedPodWebhook(ours[PathMutatePod], (*request[podView, unread])(nil)),
			PathValidatePod: typedPodWebhook(ours[PathValidatePod], (*request[podView, podView])(nil)),
		}},
	}
}

// TestControllerRuntimeEquivalent holds the benchmark's variants to our answer
// on every fixture: allowed, code, reason, patch type, patch and UID, and the
// message too except where the object does not decode (each decoder words its
// errors its own way).
func TestControllerRuntimeEquivalent(t *testing.T) {
	impls := admissionImpls()
	ours := impls[0].routes
	for _, fx := range fixtures(t) {
		body, err := os.ReadFile(fx.request)
		require.NoError(t, err)
		_, a := serve(t, ours["/"+fx.endpoint], fx.endpoint, body)
		want := goldenOf(t, a.Response)
		for _, impl := range impls[1:] {
			h, ok := impl.routes["/"+fx.endpoint]
			if !ok {
				continue
			}
			t.Run(impl.name+"/"+fx.endpoint+"/"+fx.name, func(t *testing.T) {
				_, b := serve(t, h, fx.endpoint, body)
				w, got := want, goldenOf(t, b.Response)
				if w.Code == http.StatusBadRequest {
					w.Message, got.Message = "", ""
				} else {
					assert.Equal(t, a.Response.UID, b.Response.UID)
				}
				assert.Equal(t, w, got)
			})
		}
	}
}

// BenchmarkAdmission runs each benchmark request through our handler and the
// controller-runtime variants one after the other, so that all see the same
// machine. Compare with benchstat -col /decoder.
func BenchmarkAdmission(b *testing.B) {
	impls := admissionImpls()
	for _, bc := range benchCases {
		body := readFixture(b, bc.endpoint, bc.fixture)
		for _, impl := range impls {
			h, ok := impl.routes["/"+bc.endpoint]
			if !ok {
				continue
			}
			b.Run(bc.name+"/decoder="+impl.name, func(b *testing.B) { runBench(b, h, body) })
		}
	}
}
