package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	admissionmetrics "sigs.k8s.io/controller-runtime/pkg/webhook/admission/metrics"
	sigsjson "sigs.k8s.io/json"
)

// maxReviewBytes caps a request body as controller-runtime does: two objects of
// at most 3 MiB each (the API server's own limit) and room for the rest.
const maxReviewBytes = 7 << 20

// Both AdmissionReview versions have the same shape; the answer echoes the
// version the API server sent, as the registration's admissionReviewVersions allow.
var reviewVersions = map[string]bool{
	admissionv1.SchemeGroupVersion.String(): true,
	"admission.k8s.io/v1beta1":              true,
}

// decodedReview is an AdmissionReview whose object and old object are decoded straight
// into the views a handler reads (Obj, Old), in the one pass that decodes the
// review. controller-runtime's admission.Webhook scans the body three times (its
// deserializer twice, then the handler its RawExtension); at 1,000 reviews/s
// that scanning was most of the webhook's CPU. Parts of the object a view does
// not name are skipped, never copied, and nothing is re-encoded but the patch.
type decodedReview[Obj, Old any] struct {
	metav1.TypeMeta `json:",inline"`
	Request         *request[Obj, Old] `json:"request"`
}

// request is the AdmissionRequest with its objects decoded as views. Object and
// OldObject here are shallower than the embedded RawExtension fields of the same
// JSON names, so the decoder fills these and leaves those empty.
type request[Obj, Old any] struct {
	admissionv1.AdmissionRequest
	Object    *Obj `json:"object"`
	OldObject *Old `json:"oldObject"`
}

// unread is the view of an object a handler does not read: the decoder steps over it.
type unread struct{}

// handlerFunc is the policy of one endpoint.
type handlerFunc[Obj, Old any] func(ctx context.Context, req *request[Obj, Old]) admission.Response

// endpoint serves one admission path: it reads and decodes the review, runs the
// policy and writes the answer. Malformed reviews are answered with an
// AdmissionReview carrying code 400 (the HTTP exchange itself succeeded), as
// controller-runtime answers them.
type endpoint[Obj, Old any] struct {
	log    logr.Logger
	handle handlerFunc[Obj, Old]
}

func newEndpoint[Obj, Old any](opts Options, name string, h handlerFunc[Obj, Old]) *endpoint[Obj, Old] {
	base := opts.Log
	if base.GetSink() == nil {
		base = logf.Log.WithName("admission")
	}
	return &endpoint[Obj, Old]{log: base.WithName(name), handle: h}
}

func (e *endpoint[Obj, Old]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rv, code, err := e.decode(r)
	if err != nil {
		resp := admission.Errored(code, err)
		apiVersion := ""
		if rv != nil && rv.Request != nil {
			// A value of the wrong type is skipped and the rest decoded, so the
			// answer can still carry the request's UID and version.
			resp.UID, apiVersion = rv.Request.UID, rv.APIVersion
		}
		e.log.Error(err, "Bad admission request", "code", code, "requestID", resp.UID)
		e.write(w, apiVersion, resp)
		return
	}
	resp := e.serve(r.Context(), rv.Request)
	e.write(w, rv.APIVersion, resp)
}

// decode reads the body through the size cap and decodes it in one pass.
func (e *endpoint[Obj, Old]) decode(r *http.Request) (*decodedReview[Obj, Old], int32, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, http.StatusBadRequest, errors.New("request body is empty")
	}
	defer r.Body.Close()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxReviewBytes+1))
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("reading the request body: %w", err)
	}
	if len(body) > maxReviewBytes {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request entity is too large; limit is %d bytes", maxReviewBytes)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		return nil, http.StatusBadRequest, fmt.Errorf("contentType=%s, expected application/json", ct)
	}
	var rv decodedReview[Obj, Old]
	// Case-sensitive like the API server, so "Metadata" is not taken for metadata;
	// integers stay int64 so that an observedGeneration survives re-encoding exactly.
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(body, &rv); err != nil {
		return &rv, http.StatusBadRequest, fmt.Errorf("decoding the AdmissionReview: %s", describeDecodeError(err))
	}
	if rv.Kind != "AdmissionReview" || !reviewVersions[rv.APIVersion] {
		return nil, http.StatusBadRequest, fmt.Errorf(
			"expected an AdmissionReview of admission.k8s.io/v1 or v1beta1, got kind %q of apiVersion %q", rv.Kind, rv.APIVersion)
	}
	if rv.Request == nil {
		return nil, http.StatusBadRequest, errors.New("the AdmissionReview carries no request")
	}
	return &rv, 0, nil
}

// serve runs the policy with the request's logger in ctx. A panic is answered
// with a 500 rather than taking the process down with every in-flight review.
func (e *endpoint[Obj, Old]) serve(ctx context.Context, req *request[Obj, Old]) (resp admission.Response) {
	// Complete reads only the UID: a shallow copy of the request, without the
	// RawExtensions (empty here), is all it needs.
	plain := admission.Request{AdmissionRequest: req.AdmissionRequest}
	defer func() {
		if r := recover(); r != nil {
			admissionmetrics.WebhookPanics.WithLabelValues().Inc()
			e.log.Error(fmt.Errorf("panic: %v", r), "Admission handler panicked", "requestID", req.UID)
			resp = admission.Errored(http.StatusInternalServerError, fmt.Errorf("panic: %v [recovered]", r))
			resp.UID = req.UID
		}
	}()
	log := e.log.WithValues("requestID", req.UID)
	resp = e.handle(logf.IntoContext(ctx, log), req)
	if err := resp.Complete(plain); err != nil {
		log.Error(err, "Encoding the patch")
		resp = admission.Errored(http.StatusInternalServerError, fmt.Errorf("encoding the patch: %w", err))
		resp.UID = req.UID
	}
	return resp
}

// write answers with an AdmissionReview of the version the request used (v1
// when it could not be read).
func (e *endpoint[Obj, Old]) write(w http.ResponseWriter, apiVersion string, resp admission.Response) {
	if !reviewVersions[apiVersion] {
		apiVersion = admissionv1.SchemeGroupVersion.String()
	}
	w.Header().Set("Content-Type", "application/json")
	out := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: apiVersion, Kind: "AdmissionReview"},
		Response: &resp.AdmissionResponse,
	}
	if err := json.NewEncoder(w).Encode(out); err != nil {
		// The connection broke mid-answer; the API server applies the failure policy.
		e.log.Error(err, "Writing the admission response", "requestID", resp.UID)
	}
}

// typeErrorMessage matches the decoder's message for a value of the wrong type,
// whose Go struct name (generic, long) says nothing to the reader of a review.
var typeErrorMessage = regexp.MustCompile(`^json: cannot unmarshal (\S+) into Go struct field \S*?\.((?:request|kind|apiVersion)\b\S*) of type (\S+)$`)

// describeDecodeError names the JSON path of a wrong-typed value and what it
// should have been, e.g. "request.object.metadata.labels: expected
// map[string]string, got array"; other errors pass through as they are.
func describeDecodeError(err error) string {
	m := typeErrorMessage.FindStringSubmatch(err.Error())
	if m == nil {
		return err.Error()
	}
	want := m[3]
	if strings.HasPrefix(strings.TrimPrefix(want, "*"), "webhook.") {
		want = "an object" // one of this package's views
	}
	return fmt.Sprintf("%s: expected %s, got %s", m[2], want, m[1])
}
