package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/cmd/webhook/app"
	"github.com/ambient-code/agentic-operator/webhook"
)

// The real admission routes behind the real server: what the API server sees.
func startAdmission(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.start(t, func(a app.Admission) map[string]http.Handler {
		return webhook.Routes(webhook.Options{Log: a.Log, RunnerCreators: a.RunnerCreators})
	})
	return h
}

// review posts raw bytes and decodes the AdmissionReview answer.
func (h *harness) review(t *testing.T, path, contentType string, body io.Reader) (*http.Response, map[string]any, *admissionv1.AdmissionResponse) {
	t.Helper()
	resp, data := h.post(t, path, contentType, body)
	var typeMeta map[string]any
	require.NoError(t, json.Unmarshal(data, &typeMeta), "answer: %s", data)
	var ar admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(data, &ar), "answer: %s", data)
	require.NotNil(t, ar.Response, "answer: %s", data)
	return resp, typeMeta, ar.Response
}

func podReview(t *testing.T, apiVersion string, uid types.UID, pod *corev1.Pod) []byte {
	t.Helper()
	raw, err := json.Marshal(pod)
	require.NoError(t, err)
	ar := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: apiVersion, Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       uid,
			Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Namespace: pod.Namespace,
			Name:      pod.Name,
			Operation: admissionv1.Create,
			Object:    runtime.RawExtension{Raw: raw},
		},
	}
	data, err := json.Marshal(ar)
	require.NoError(t, err)
	return data
}

func runnerPod() *corev1.Pod {
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "session-a-runner", Namespace: "project-a",
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "vteam.ambient-code/v1alpha1", Kind: "AgenticSession",
				Name: "session-a", UID: "3c0b", Controller: ptr.To(true),
			}},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "runner", Image: "runner:1"}}},
	}
}

func TestMalformedReviewsAreAnswered400(t *testing.T) {
	h := startAdmission(t)
	valid := podReview(t, "admission.k8s.io/v1", "u-1", runnerPod())

	for name, tc := range map[string]struct {
		contentType string
		body        []byte
		message     string
	}{
		"empty body":         {"application/json", nil, "request body is empty"},
		"wrong content type": {"text/plain", valid, "contentType=text/plain, expected application/json"},
		"invalid JSON":       {"application/json", []byte(`{"apiVersion":`), ""},
		"not a review":       {"application/json", []byte(`[1,2,3]`), ""},
	} {
		for _, path := range []string{webhook.PathMutatePod, webhook.PathValidatePod, webhook.PathMutateSession} {
			t.Run(name+" "+path, func(t *testing.T) {
				var body io.Reader = http.NoBody
				if tc.body != nil {
					body = bytes.NewReader(tc.body)
				}
				resp, _, r := h.review(t, path, tc.contentType, body)
				// The AdmissionReview carries the 400; the HTTP exchange itself succeeded.
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.False(t, r.Allowed)
				require.NotNil(t, r.Result)
				assert.EqualValues(t, http.StatusBadRequest, r.Result.Code)
				assert.Contains(t, r.Result.Message, tc.message)
			})
		}
	}
}

func TestReviewAnswersEchoUIDAndAPIVersion(t *testing.T) {
	h := startAdmission(t)
	plain := runnerPod()
	plain.OwnerReferences = nil

	for _, apiVersion := range []string{"admission.k8s.io/v1", "admission.k8s.io/v1beta1"} {
		for _, path := range []string{webhook.PathMutatePod, webhook.PathValidatePod, webhook.PathMutateSession} {
			t.Run(apiVersion+" "+path, func(t *testing.T) {
				uid := types.UID("uid-" + strings.ReplaceAll(apiVersion+path, "/", "-"))
				resp, typeMeta, r := h.review(t, path, "application/json", bytes.NewReader(podReview(t, apiVersion, uid, plain)))
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, apiVersion, typeMeta["apiVersion"])
				assert.Equal(t, "AdmissionReview", typeMeta["kind"])
				assert.Equal(t, uid, r.UID)
				assert.True(t, r.Allowed, "a plain pod passes every endpoint: %+v", r.Result)
				assert.Empty(t, r.Patch)
			})
		}
	}
}

func TestRunnerPodIsLabelledOverHTTPS(t *testing.T) {
	h := startAdmission(t)
	pod := runnerPod()
	_, _, r := h.review(t, webhook.PathMutatePod, "application/json", bytes.NewReader(podReview(t, "admission.k8s.io/v1", "u-2", pod)))
	require.True(t, r.Allowed)
	require.Equal(t, ptr.To(admissionv1.PatchTypeJSONPatch), r.PatchType)

	patch, err := jsonpatch.DecodePatch(r.Patch)
	require.NoError(t, err)
	raw, err := json.Marshal(pod)
	require.NoError(t, err)
	patched, err := patch.Apply(raw)
	require.NoError(t, err)
	var got corev1.Pod
	require.NoError(t, json.Unmarshal(patched, &got))
	assert.Equal(t, map[string]string{
		"ambient-code.io/runner": "true",
		"agentic-session":        "session-a",
		"app":                    "ambient-code-runner",
	}, got.Labels)

	// The project's counters are served beside controller-runtime's series.
	code, body := get(t, "http://"+h.metricsAddr+"/metrics")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `ambient_webhook_patches_total{kind="Pod"}`)
	assert.Contains(t, body, `controller_runtime_webhook_requests_total{code="200",webhook="/mutate-v1-pod"}`)
}
