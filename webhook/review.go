package webhook

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"time"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	admissionmetrics "sigs.k8s.io/controller-runtime/pkg/webhook/admission/metrics"
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

// decodedReview is an AdmissionReview whose object and old object are decoded
// straight into the views a handler reads (Obj, Old), in the one pass that
// decodes the review. controller-runtime's admission.Webhook scans a body six
// times (its deserializer validates and decodes twice, then the handler its
// RawExtension); at 1,000 reviews/s that scanning was most of the webhook's CPU.
// The decoder is go-json-experiment/json (the encoding/json/v2 candidate, which
// kube-openapi also uses): it validates while it decodes, so skipped parts of
// the object cost one fast scan. It is case-sensitive like the API server, and
// never decodes a number into a float here (session status goes through
// sigs.k8s.io/json, session.go). Nothing is re-encoded but the patch.
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
	log         logr.Logger
	handle      handlerFunc[Obj, Old]
	readTimeout time.Duration
	bound       *inFlight // nil: unbounded
}

func newEndpoint[Obj, Old any](opts Options, name string, h handlerFunc[Obj, Old]) *endpoint[Obj, Old] {
	base := opts.Log
	if base.GetSink() == nil {
		base = logf.Log.WithName("admission")
	}
	timeout := opts.BodyReadTimeout
	if timeout <= 0 {
		timeout = DefaultBodyReadTimeout
	}
	return &endpoint[Obj, Old]{log: base.WithName(name), handle: h, readTimeout: timeout, bound: opts.bound}
}

func (e *endpoint[Obj, Old]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e.bound != nil {
		n, ok := e.bound.acquire(w, r)
		if !ok {
			return
		}
		defer e.bound.release(n)
	}
	// A body that trickles in would hold a connection and its buffer for as
	// long as the client likes; past the deadline the read fails. Servers that
	// cannot set one (httptest recorders) are only unprotected, not refused.
	if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(e.readTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		e.log.V(1).Info("Setting the body read deadline", "error", err.Error())
	}
	buf := getBuffer()
	defer putBuffer(buf)
	rv, body, code, err := e.decode(r, buf)
	if err != nil {
		resp := admission.Errored(code, err)
		var id reviewIdentity
		if body != nil {
			// The decoder stops at a value of the wrong type, maybe before the
			// UID; a second look that skips the objects finds it if it is there.
			_ = json.Unmarshal(body, &id, jsontext.AllowDuplicateNames(true))
		}
		resp.UID = id.Request.UID
		e.log.Error(err, "Bad admission request", "code", code, "requestID", resp.UID)
		e.write(w, id.APIVersion, resp)
		return
	}
	resp := e.serve(r.Context(), rv.Request)
	e.write(w, rv.APIVersion, resp)
}

// bodyBuffers keeps request body buffers between reviews: a fresh one per review
// (16 KiB, grown for a session's two objects) was the largest single share of the
// bytes allocated per review, and so of the collector's work. The decoded views
// copy what they keep, so a buffer is free again once the answer is written.
var bodyBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, initialBodyBuffer)) }}

// maxPooledBuffer is the largest buffer kept: one rare 7 MiB review must not pin
// its buffer for the life of the process.
const maxPooledBuffer = 256 << 10

func getBuffer() *bytes.Buffer { return bodyBuffers.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	bodyBuffers.Put(b)
}

// decode reads the body through the size cap and decodes it in one pass. A body
// that does not decode is returned with the error, for the answer to echo its UID.
func (e *endpoint[Obj, Old]) decode(r *http.Request, buf *bytes.Buffer) (*decodedReview[Obj, Old], []byte, int32, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil, http.StatusBadRequest, errors.New("request body is empty")
	}
	defer r.Body.Close()
	// The buffer starts small (or as large as a pooled one grew) and grows with
	// what actually arrives: a declared Content-Length costs nothing until the
	// bytes come.
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, maxReviewBytes+1)); err != nil {
		return nil, nil, http.StatusBadRequest, fmt.Errorf("reading the request body: %w", err)
	}
	body := buf.Bytes()
	if len(body) > maxReviewBytes {
		return nil, nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request entity is too large; limit is %d bytes", maxReviewBytes)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		return nil, nil, http.StatusBadRequest, fmt.Errorf("contentType=%s, expected application/json", ct)
	}
	var rv decodedReview[Obj, Old]
	// Case-sensitive like the API server, so "Metadata" is not taken for metadata.
	// Duplicate member names are let through (the last wins, as in encoding/json):
	// the API server's encoder never writes them, and tracking names to reject
	// them was a measurable share of the decoding.
	if err := json.Unmarshal(body, &rv, jsontext.AllowDuplicateNames(true)); err != nil {
		return nil, body, http.StatusBadRequest, fmt.Errorf("decoding the AdmissionReview: %s", describeDecodeError(err))
	}
	if rv.Kind != "AdmissionReview" || !reviewVersions[rv.APIVersion] {
		return nil, nil, http.StatusBadRequest, fmt.Errorf(
			"expected an AdmissionReview of admission.k8s.io/v1 or v1beta1, got kind %q of apiVersion %q", rv.Kind, rv.APIVersion)
	}
	if rv.Request == nil {
		return nil, nil, http.StatusBadRequest, errors.New("the AdmissionReview carries no request")
	}
	return &rv, body, 0, nil
}

// reviewIdentity is what an answer must echo: the review's version and the UID.
type reviewIdentity struct {
	APIVersion string `json:"apiVersion"`
	Request    struct {
		UID types.UID `json:"uid"`
	} `json:"request"`
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
	// The handlers log with the endpoint's logger and name the request themselves:
	// a per-review WithValues("requestID") made zap encode the field into a new
	// core for every review, though most reviews log nothing.
	resp = e.handle(logf.IntoContext(ctx, e.log), req)
	if err := resp.Complete(plain); err != nil {
		e.log.Error(err, "Encoding the patch", "requestID", req.UID)
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
	out := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: apiVersion, Kind: "AdmissionReview"},
		Response: &resp.AdmissionResponse,
	}
	// Encoded whole into a pooled buffer, then written once with its length:
	// an answer over 2 KiB goes out with its length instead of as a chunked stream.
	buf := getBuffer()
	defer putBuffer(buf)
	if err := stdjson.NewEncoder(buf).Encode(out); err != nil {
		e.log.Error(err, "Encoding the admission response", "requestID", resp.UID)
		http.Error(w, "encoding the admission response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	if _, err := w.Write(buf.Bytes()); err != nil {
		// The connection broke mid-answer; the API server applies the failure policy.
		e.log.Error(err, "Writing the admission response", "requestID", resp.UID)
	}
}

// describeDecodeError says where a value of the wrong type is and what it
// should have been, e.g. "/request/object/metadata/labels: expected an object,
// got array"; syntax errors already name their place and pass through.
func describeDecodeError(err error) string {
	var se *json.SemanticError
	if !errors.As(err, &se) || se.JSONKind == 0 || se.GoType == nil {
		return err.Error()
	}
	t := se.GoType
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	got, ok := kindNames[se.JSONKind]
	if !ok {
		return err.Error()
	}
	want := t.String()
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		want = "an object"
	case reflect.Slice:
		want = "an array"
	case reflect.String:
		want = "a string"
	}
	return fmt.Sprintf("%s: expected %s, got %s", se.JSONPointer, want, got)
}

var kindNames = map[jsontext.Kind]string{
	'n': "null", 't': "true", 'f': "false", '"': "a string", '0': "a number", '{': "an object", '[': "an array",
}
