//go:build record

// The request half of testdata/ is recorded from a real kube-apiserver v1.37.2,
// driven by the real kubectl v1.37.2, rather than written by hand:
//
//	make controlplane && go test -tags record -run TestRecordFixtures ./webhook/
//	go test ./webhook/ -run TestFixtures -update   # then review the golden diffs
//
// The recorder registers the three endpoints (plus a Deployment rule on the pod
// endpoints and CONNECT rules, to record what a misregistration sends), serves
// them with the real handlers, and saves the first request body each endpoint
// receives during each named step. A few cases no API server can send (bodies
// that do not decode, fields a newer CRD would carry) are derived from recorded
// ones at the end, each saying so in its name.
package webhook_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	admissionregv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ambient-code/agentic-operator/webhook"
)

// recorder serves the endpoints and keeps the first body per endpoint and step.
type recorder struct {
	mu         sync.Mutex
	step       string
	permissive bool
	bodies     map[string][]byte // "<endpoint>/<step>" -> request body
}

func (r *recorder) set(step string, permissive bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.step, r.permissive = step, permissive
}

func (r *recorder) handler(path string, real http.Handler) http.Handler {
	// Permissive steps seed state the real handlers would refuse or rewrite.
	allow := &admission.Webhook{Handler: admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
		return admission.Allowed("recording")
	})}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		key := strings.TrimPrefix(path, "/") + "/" + r.step
		if _, seen := r.bodies[key]; !seen && r.step != "" {
			r.bodies[key] = body
		}
		permissive := r.permissive
		r.mu.Unlock()
		if permissive {
			allow.ServeHTTP(w, req)
			return
		}
		real.ServeHTTP(w, req)
	})
}

func TestRecordFixtures(t *testing.T) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join("..", "bin")
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			MutatingWebhooks:   []*admissionregv1.MutatingWebhookConfiguration{mutatingConfig()},
			ValidatingWebhooks: []*admissionregv1.ValidatingWebhookConfiguration{validatingConfig()},
		},
	}
	// Pods should look as on a real cluster: service account, token volume.
	env.ControlPlane.GetAPIServer().Configure().Set("disable-admission-plugins", "")
	cfg, err := env.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = env.Stop() })

	rec := &recorder{bodies: map[string][]byte{}}
	mux := http.NewServeMux()
	routes := webhook.Routes(webhook.Options{RunnerCreators: runnerCreators})
	for path, h := range routes {
		mux.Handle(path, rec.handler(path, h))
	}
	wio := env.WebhookInstallOptions
	cert, err := tls.LoadX509KeyPair(filepath.Join(wio.LocalServingCertDir, "tls.crt"), filepath.Join(wio.LocalServingCertDir, "tls.key"))
	require.NoError(t, err)
	ln, err := tls.Listen("tcp", net.JoinHostPort(wio.LocalServingHost, strconv.Itoa(wio.LocalServingPort)),
		&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	user, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, cfg)
	require.NoError(t, err)
	kubeconfig, err := user.KubeConfig()
	require.NoError(t, err)
	kcPath := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kcPath, kubeconfig, 0o600))

	k := &kubectl{t: t, bin: filepath.Join(assets, "kubectl"), kubeconfig: kcPath, rec: rec}
	recordSteps(k)

	for key, body := range rec.bodies {
		writeRequest(t, key, body)
	}
	deriveCases(t)
	t.Logf("recorded %d requests", len(rec.bodies))
}

type kubectl struct {
	t          *testing.T
	bin        string
	kubeconfig string
	rec        *recorder
}

// outcome is what a step's kubectl run should end with.
type outcome int

const (
	ok     outcome = iota
	denied         // the webhook or the API server refuses the write
	either         // not asserted: only the request matters
)

// run executes kubectl for step with stdin (a manifest, or "").
func (k *kubectl) run(step string, permissive bool, want outcome, stdin string, args ...string) string {
	k.t.Helper()
	k.rec.set(step, permissive)
	defer k.rec.set("", false)
	cmd := exec.Command(k.bin, append([]string{"--kubeconfig", k.kubeconfig}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	switch want {
	case denied:
		require.Error(k.t, err, "step %s: kubectl %v should fail", step, args)
		k.t.Logf("step %s: refused as expected: %s", step, strings.TrimSpace(errOut.String()))
	case ok:
		require.NoError(k.t, err, "step %s: kubectl %v: %s", step, args, errOut.String())
	case either:
		if err != nil {
			k.t.Logf("step %s: refused: %s", step, strings.TrimSpace(errOut.String()))
		}
	}
	return out.String()
}

// redundant are recorded requests that add nothing: the pod mutator skips every
// UPDATE alike, so one UPDATE fixture stands for all.
func redundant(key string) bool {
	return strings.HasPrefix(key, "mutate-v1-pod/update-") && key != "mutate-v1-pod/update-runner-label-changed"
}

func writeRequest(t *testing.T, key string, body []byte) {
	if redundant(key) {
		return
	}
	var pretty bytes.Buffer
	require.NoError(t, json.Indent(&pretty, body, "", "  "))
	pretty.WriteByte('\n')
	path := filepath.Join("testdata", key+".request.json")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, pretty.Bytes(), 0o644))
}

func mutatingConfig() *admissionregv1.MutatingWebhookConfiguration {
	return &admissionregv1.MutatingWebhookConfiguration{
		ObjectMeta: objectMeta("recorder-mutating"),
		Webhooks: []admissionregv1.MutatingWebhook{
			mutatingHook("pods.mutate.ambient-code.io", "mutate-v1-pod", podRules()),
			mutatingHook("agenticsessions.mutate.ambient-code.io", "mutate-agenticsession", sessionRules()),
		},
	}
}

func validatingConfig() *admissionregv1.ValidatingWebhookConfiguration {
	return &admissionregv1.ValidatingWebhookConfiguration{
		ObjectMeta: objectMeta("recorder-validating"),
		Webhooks: []admissionregv1.ValidatingWebhook{{
			Name:                    "pods.validate.ambient-code.io",
			ClientConfig:            clientConfig("validate-v1-pod"),
			Rules:                   podRules(),
			FailurePolicy:           ptr(admissionregv1.Fail),
			SideEffects:             ptr(admissionregv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr(int32(10)),
		}},
	}
}

func mutatingHook(name, path string, rules []admissionregv1.RuleWithOperations) admissionregv1.MutatingWebhook {
	return admissionregv1.MutatingWebhook{
		Name:                    name,
		ClientConfig:            clientConfig(path),
		Rules:                   rules,
		FailurePolicy:           ptr(admissionregv1.Fail),
		SideEffects:             ptr(admissionregv1.SideEffectClassNone),
		AdmissionReviewVersions: []string{"v1"},
		TimeoutSeconds:          ptr(int32(10)),
	}
}

// podRules cover pods and pods/status for every operation, pods/exec for CONNECT,
// and deployments, which only a misregistration would send.
func podRules() []admissionregv1.RuleWithOperations {
	all := []admissionregv1.OperationType{admissionregv1.Create, admissionregv1.Update, admissionregv1.Delete}
	return []admissionregv1.RuleWithOperations{
		rule(all, "", "v1", "pods", "pods/status"),
		rule([]admissionregv1.OperationType{admissionregv1.Connect}, "", "v1", "pods/exec"),
		rule([]admissionregv1.OperationType{admissionregv1.Create}, "apps", "v1", "deployments"),
	}
}

func sessionRules() []admissionregv1.RuleWithOperations {
	all := []admissionregv1.OperationType{admissionregv1.Create, admissionregv1.Update, admissionregv1.Delete}
	return []admissionregv1.RuleWithOperations{rule(all, "vteam.ambient-code", "v1alpha1", "agenticsessions", "agenticsessions/status")}
}

func rule(ops []admissionregv1.OperationType, group, version string, resources ...string) admissionregv1.RuleWithOperations {
	return admissionregv1.RuleWithOperations{Operations: ops, Rule: admissionregv1.Rule{
		APIGroups: []string{group}, APIVersions: []string{version}, Resources: resources,
	}}
}

func clientConfig(path string) admissionregv1.WebhookClientConfig {
	// envtest turns the service into https://host:port/<path>; no leading slash.
	return admissionregv1.WebhookClientConfig{Service: &admissionregv1.ServiceReference{
		Name: "recorder", Namespace: "default", Path: ptr(path),
	}}
}

func ptr[T any](v T) *T { return &v }

func objectMeta(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }

// deriveCases writes the cases no API server sends, each from a recorded request.
func deriveCases(t *testing.T) {
	edit := func(from, to string, change func(review map[string]any)) {
		data, err := os.ReadFile(filepath.Join("testdata", from+".request.json"))
		require.NoError(t, err, "deriving %s", to)
		var review map[string]any
		require.NoError(t, json.Unmarshal(data, &review))
		change(review)
		out, err := json.Marshal(review)
		require.NoError(t, err)
		writeRequest(t, to, out)
	}
	object := func(review map[string]any) map[string]any {
		return review["request"].(map[string]any)["object"].(map[string]any)
	}
	// A body whose object is JSON but not a pod: labels must be a string map.
	edit("mutate-v1-pod/runner-pod-missing-labels", "mutate-v1-pod/derived-malformed-object-labels-not-a-map", func(r map[string]any) {
		object(r)["metadata"].(map[string]any)["labels"] = []any{"agentic-session", "s1"}
	})
	edit("validate-v1-pod/update-runner-label-changed", "validate-v1-pod/derived-malformed-old-object", func(r map[string]any) {
		r["request"].(map[string]any)["oldObject"] = "not a pod"
	})
	edit("mutate-agenticsession/status-update-canonical", "mutate-agenticsession/derived-malformed-object-not-an-object", func(r map[string]any) {
		r["request"].(map[string]any)["object"] = []any{"not", "a", "session"}
	})
	// Fields a newer CRD version would carry: the webhook must keep them.
	edit("mutate-agenticsession/status-update-exact-duplicates", "mutate-agenticsession/derived-unknown-fields-kept", func(r map[string]any) {
		obj := object(r)
		obj["spec"].(map[string]any)["futureSpecField"] = map[string]any{"nested": []any{1, "two"}}
		status := obj["status"].(map[string]any)
		status["futureStatusField"] = "kept"
		for _, c := range status["conditions"].([]any) {
			c.(map[string]any)["severity"] = "Warning"
		}
	})
	// A body cut short: controller-runtime answers 400 before any handler runs.
	for _, from := range []string{"mutate-v1-pod/runner-pod-missing-labels", "mutate-agenticsession/status-update-exact-duplicates"} {
		data, err := os.ReadFile(filepath.Join("testdata", from+".request.json"))
		require.NoError(t, err)
		to := filepath.Join("testdata", filepath.Dir(from), "derived-truncated-body.request.json")
		require.NoError(t, os.WriteFile(to, data[:len(data)/2], 0o644))
	}
}

func (k *kubectl) uid(resource, name string) string {
	k.t.Helper()
	uid := strings.TrimSpace(k.run("", false, ok, "", "get", resource, name, "-n", ns, "-o", "jsonpath={.metadata.uid}"))
	require.NotEmpty(k.t, uid, "no uid for %s %s", resource, name)
	return uid
}
