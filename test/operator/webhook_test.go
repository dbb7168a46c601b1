package operator_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ambient-code/agentic-operator/certs"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/identity"
	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
	"github.com/ambient-code/agentic-operator/webhook"
)

// webhookServer is this repository's admission handlers served in-process over
// TLS, counting the requests each path gets.
type webhookServer struct {
	requests map[string]*atomic.Int64
}

// installWebhook serves webhook.Routes on 127.0.0.1 with a throwaway CA's
// certificate and registers config/webhook's configurations, with only their
// clientConfig rewritten to call it by URL (test/manifests), until t ends.
// op is the one identity allowed to create runner pods.
func installWebhook(t *testing.T, env *testenv.Env, op *identity.Operator) *webhookServer {
	t.Helper()
	ca, err := certs.GenerateCA("operator-test-ca", time.Hour)
	require.NoError(t, err)
	serving, err := ca.IssueServing(nil, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	require.NoError(t, err)
	pair, err := serving.TLSCertificate()
	require.NoError(t, err)

	ws := &webhookServer{requests: map[string]*atomic.Int64{}}
	mux := http.NewServeMux()
	for path, h := range webhook.Routes(webhook.Options{RunnerCreators: []string{op.Username()}}) {
		n := &atomic.Int64{}
		ws.requests[path] = n
		mux.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			h.ServeHTTP(w, r)
		}))
	}
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	kubectl := filepath.Join(testenv.BinDir(t), "kubectl")
	objs, err := manifests.Build(ctx, kubectl, filepath.Join(env.Root, "config", "webhook"))
	require.NoError(t, err)
	configs, err := manifests.LocalWebhookConfigurations(objs, manifests.Local{BaseURL: srv.URL, CABundle: ca.CertPEM})
	require.NoError(t, err)
	require.Len(t, configs, 2, "a mutating and a validating configuration")
	require.NoError(t, manifests.Apply(ctx, env.Client, "operator-test", configs...))

	waitEnforced(t, env, op)
	return ws
}

// waitEnforced waits until the API server, which loads webhook configurations
// through an informer, calls the webhook: a dry-run pod controlled by a session
// comes back labelled. Nothing is stored. The probe is sent as op, the only
// identity that may create such a pod.
func waitEnforced(t *testing.T, env *testenv.Env, op *identity.Operator) {
	t.Helper()
	c, err := client.New(op.Config(env.Config), client.Options{Scheme: env.Scheme})
	require.NoError(t, err)
	const ns = "webhook-probe"
	env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	testenv.Eventually(t, waitTimeout, "webhook enforced", func(ctx context.Context) error {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "probe-runner", Namespace: ns, OwnerReferences: []metav1.OwnerReference{{
				APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.KindAgenticSession,
				Name: "probe", UID: types.UID("probe-uid"), Controller: ptr.To(true),
			}}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.com/probe"}}},
		}
		if err := c.Create(ctx, pod, client.DryRunAll); err != nil {
			return err
		}
		if pod.Labels[v1alpha1.LabelRunner] != v1alpha1.ValueTrue {
			return errors.New("the webhook has not labelled the probe pod yet")
		}
		return nil
	})
}

// patches reads the webhook's ambient_webhook_patches_total for kind from the
// in-process metrics registry.
func patches(t *testing.T, kind string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != "ambient_webhook_patches_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("ambient_webhook_patches_total{kind=%q} is not registered", kind)
	return 0
}

// admission: the operator's runner pods and its session status writes reach the
// webhook and come back without a patch, because the operator already writes the
// runner labels and one condition per type.
func (s *suite) admission(t *testing.T) {
	const ns = "admission"
	s.env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	podPatches, sessionPatches := patches(t, "Pod"), patches(t, "AgenticSession")
	podCalls := s.webhook.requests[webhook.PathMutatePod].Load()
	validateCalls := s.webhook.requests[webhook.PathValidatePod].Load()
	sessionCalls := s.webhook.requests[webhook.PathMutateSession].Load()

	name := "admitted"
	createSession(t, s.env, ns, name)
	testenv.Eventually(t, waitTimeout, "session Creating", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseCreating))
	s.kubelet.run(t, ns, v1alpha1.RunnerPodName(name))
	testenv.Eventually(t, waitTimeout, "session Running", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseRunning))

	pod := &corev1.Pod{}
	require.NoError(t, s.env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: v1alpha1.RunnerPodName(name)}, pod))
	assert.Equal(t, v1alpha1.RunnerLabels(name), pod.Labels)

	assert.Greater(t, s.webhook.requests[webhook.PathMutatePod].Load(), podCalls, "the pod went through the mutating webhook")
	assert.Greater(t, s.webhook.requests[webhook.PathValidatePod].Load(), validateCalls, "the pod went through the validating webhook")
	assert.Greater(t, s.webhook.requests[webhook.PathMutateSession].Load(), sessionCalls, "status writes went through the session webhook")
	assert.Equal(t, podPatches, patches(t, "Pod"), "the mutating webhook patched none of the operator's pods")
	assert.Equal(t, sessionPatches, patches(t, "AgenticSession"), "the operator's status writes needed no collapsing")
}
