package chart

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ambient-code/agentic-operator/certs"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/certmanager"
	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// The chart as `helm install` would put it on a cluster: the API server starts
// with the chart's crds/ (not config/crd), cert-manager's CRDs are installed and
// the rendered templates applied. cert-manager's cainjector, run in-process,
// fills both webhook configurations' caBundle from the chart's serving
// Certificate (inject-ca-from); the Secret the Certificate names is written here
// as cert-manager would, by a throwaway CA. The real webhook serves that
// certificate, with the chart's --runner-creators, and kubectl's writes are
// enforced by it. The chart's admission policies are applied after that, so
// that the webhook is seen doing its part alone; with them the webhook is
// made unreachable, and the pod webhooks' failing open leaves the rules in
// the policies' hands. Deleting the rendered templates, as `helm uninstall` does,
// leaves the CRDs and the sessions.
func TestChartInstallOnAPIServer(t *testing.T) {
	webhookBin := binary(t, "webhook", "build")
	rendered := helmTemplate(t)
	policies := manifests.OfKind(rendered, manifests.PolicyKinds...)
	require.Len(t, policies, 6, "three policies and their bindings")
	var withoutPolicies []*unstructured.Unstructured
	for _, o := range rendered {
		if !slices.Contains(manifests.PolicyKinds, o.GetKind()) {
			withoutPolicies = append(withoutPolicies, o)
		}
	}
	operatorSA := "system:serviceaccount:" + releaseNamespace + ":ambient-code-operator"
	creatorsArg := "--runner-creators=" + operatorSA
	require.Contains(t, webhookArgs(t, rendered, "ambient-code-webhook"), creatorsArg)
	env := testenv.Start(t, testenv.Options{CRDPaths: []string{filepath.Join(chartDir(t), "crds")}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	scheme := certmanager.Scheme(t)
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	require.NoError(t, err)

	env.CreateNamespace(t, releaseNamespace, nil)
	require.NoError(t, manifests.Apply(ctx, c, "test-chart", certmanager.CRDs(t)...))
	require.NoError(t, manifests.Apply(ctx, c, "helm", withoutPolicies...))

	// The Secrets cert-manager would write for the chart's two Certificates.
	var serving cmapi.Certificate
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: releaseNamespace, Name: "ambient-code-serving-cert"}, &serving))
	require.Equal(t, []string{
		"ambient-code-webhook-service.ambient-code-system.svc",
		"ambient-code-webhook-service.ambient-code-system.svc.cluster.local",
	}, serving.Spec.DNSNames)
	ca, err := certs.GenerateCA("ambient-code-webhook-ca", time.Hour)
	require.NoError(t, err)
	// 127.0.0.1 too: the API server calls the local webhook by URL below.
	pair, err := ca.IssueServing(serving.Spec.DNSNames, []net.IP{net.ParseIP("127.0.0.1")}, time.Hour)
	require.NoError(t, err)
	require.NoError(t, c.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: releaseNamespace, Name: serving.Spec.SecretName,
			// cainjector reads only Secrets that name their Certificate, as cert-manager writes them.
			Annotations: map[string]string{cmapi.CertificateNameKey: serving.Name}},
		Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": pair.CertPEM, "tls.key": pair.KeyPEM, "ca.crt": pair.CAPEM},
	}))

	stop := certmanager.RunCAInjector(t, env.Config, scheme)
	testenv.Eventually(t, time.Minute, "caBundle injected into the chart's webhook configurations", func(ctx context.Context) error {
		return certmanager.CABundlesEqual(ctx, c, pair.CAPEM, 3)
	})
	stop()

	// The webhook serving the Secret's pair; the configurations call it by URL
	// (no cluster network here) and keep everything else, the injected caBundle included.
	certDir := t.TempDir()
	require.NoError(t, pair.WriteDir(certDir))
	hookAddr, probe := freeAddr(t), freeAddr(t)
	testenv.StartProgram(t, webhookBin, nil, probe, "--webhook-bind-address="+hookAddr, "--cert-dir="+certDir,
		"--health-probe-bind-address="+probe, "--metrics-bind-address=0", creatorsArg)
	pointWebhooksAt(t, ctx, c, rendered, hookAddr)

	ns := "chart-project"
	env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	session := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "charted"}}
	session.Spec.InitialPrompt = "hello"
	require.NoError(t, c.Create(ctx, session))

	// A runner pod the operator writes without labels is stored with them.
	testenv.Eventually(t, time.Minute, "runner pod created through the chart's webhook", func(ctx context.Context) error {
		return createRunnerPod(ctx, env, session, operatorSA)
	})
	assertRunnerLabels(t, ctx, c, session)
	// Removing a runner label is refused.
	_, stderr, err := env.Kubectl(ctx, nil, "-n", ns, "label", "pod", session.Name+"-runner", v1alpha1.LabelRunner+"-")
	require.Error(t, err, "removing %s must be refused", v1alpha1.LabelRunner)
	// The webhook's message (it answers with the field error as the API server's own validation would).
	assert.Contains(t, stderr, "of a runner pod cannot be removed once set")
	assert.Contains(t, stderr, v1alpha1.LabelRunner)

	// The chart's policies, and the webhook down: the pod rules still hold.
	require.NoError(t, manifests.Apply(ctx, c, "helm", policies...))
	// The pod webhooks down, as a webhook with no pod left looks to the API
	// server: nothing answers where they point.
	movePodWebhooks(t, ctx, c, rendered, hookAddr, freeAddr(t))
	policiesHoldWithoutWebhook(t, ctx, env, c, ns, operatorSA)

	// helm uninstall: the rendered templates go, crds/ stays.
	var docs bytes.Buffer
	for _, o := range rendered {
		data, err := yaml.Marshal(o.Object)
		require.NoError(t, err)
		docs.WriteString("---\n")
		docs.Write(data)
	}
	_, stderr, err = env.Kubectl(ctx, docs.Bytes(), "delete", "--wait=false", "-f", "-")
	require.NoError(t, err, stderr)
	for _, o := range rendered {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(o.GroupVersionKind())
		err := c.Get(ctx, client.ObjectKeyFromObject(o), u)
		assert.True(t, err != nil && client.IgnoreNotFound(err) == nil, "%s still exists after uninstall: %v", key(o), err)
	}
	for _, name := range []string{"agenticsessions.vteam.ambient-code", "projectsettings.vteam.ambient-code"} {
		var crd apiextv1.CustomResourceDefinition
		assert.NoError(t, c.Get(ctx, client.ObjectKey{Name: name}, &crd), "CRD %s kept", name)
	}
	var kept v1alpha1.AgenticSession
	assert.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(session), &kept), "the session outlives the chart")
}

// storedWebhookConfigurations are the chart's webhook configurations as the
// API server holds them (the injected caBundle included).
func storedWebhookConfigurations(t *testing.T, ctx context.Context, c client.Client, rendered []*unstructured.Unstructured) []*unstructured.Unstructured {
	t.Helper()
	var live []*unstructured.Unstructured
	for _, kind := range []string{manifests.KindMutatingWebhookConfiguration, manifests.KindValidatingWebhookConfiguration} {
		for _, o := range manifests.OfKind(rendered, kind) {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(o.GroupVersionKind())
			require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(o), u))
			live = append(live, u)
		}
	}
	return live
}

// pointWebhooksAt makes the chart's stored webhook configurations call addr by
// URL: there is no cluster network here. Everything else stays.
func pointWebhooksAt(t *testing.T, ctx context.Context, c client.Client, rendered []*unstructured.Unstructured, addr string) {
	t.Helper()
	local, err := manifests.LocalWebhookConfigurations(storedWebhookConfigurations(t, ctx, c, rendered),
		manifests.Local{BaseURL: "https://" + addr})
	require.NoError(t, err)
	for _, o := range local {
		require.NoError(t, c.Update(ctx, o))
	}
}

// movePodWebhooks makes the pod webhooks, which pointWebhooksAt pointed at
// from, call to instead.
func movePodWebhooks(t *testing.T, ctx context.Context, c client.Client, rendered []*unstructured.Unstructured, from, to string) {
	t.Helper()
	for _, o := range storedWebhookConfigurations(t, ctx, c, rendered) {
		hooks, _, err := unstructured.NestedSlice(o.Object, "webhooks")
		require.NoError(t, err)
		for _, h := range hooks {
			hook := h.(map[string]any)
			if hook["name"] != mutatingPodWebhook && hook["name"] != validatingPodWebhook {
				continue
			}
			cc := hook["clientConfig"].(map[string]any)
			url, _ := cc["url"].(string)
			require.Contains(t, url, "https://"+from+"/", "webhook %s", hook["name"])
			cc["url"] = strings.Replace(url, from, to, 1)
		}
		require.NoError(t, unstructured.SetNestedSlice(o.Object, hooks, "webhooks"))
		require.NoError(t, c.Update(ctx, o))
	}
}

// policiesHoldWithoutWebhook checks the chart's policies with the webhook
// unreachable: the pod webhooks fail open, the operator's runner pod is created
// with its labels, a runner pod from anyone else is refused naming the chart's
// operator as the one creator, a runner label cannot be removed, and the
// kubelet's status writes go through.
func policiesHoldWithoutWebhook(t *testing.T, ctx context.Context, env *testenv.Env, c client.Client, ns, operatorSA string) {
	t.Helper()
	forged := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "forged"}}
	forged.Spec.InitialPrompt = "hello"
	require.NoError(t, c.Create(ctx, forged))
	// The API server picks up new policies asynchronously: until it does, the
	// admin's dry run goes through the failed-open webhooks.
	testenv.Eventually(t, time.Minute, "the chart's runner-pods policy enforced", func(ctx context.Context) error {
		_, stderr, err := env.Kubectl(ctx, runnerPodManifest(t, forged), "create", "--dry-run=server", "-f", "-")
		if err == nil {
			return fmt.Errorf("a runner pod from %s was admitted", testenv.AdminUser)
		}
		want := "ValidatingAdmissionPolicy 'ambient-code-runner-pods'"
		if !strings.Contains(stderr, want) {
			return fmt.Errorf("refused, but not by %s: %s", want, stderr)
		}
		// The chart's creators: its operator ServiceAccount alone.
		assert.Contains(t, stderr, "only the runner creators ("+operatorSA+") may create a pod controlled by AgenticSession \"forged\"")
		return nil
	})

	session := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "outage"}}
	session.Spec.InitialPrompt = "hello"
	require.NoError(t, c.Create(ctx, session))
	testenv.Eventually(t, time.Minute, "runner pod created by the operator with the webhook down", func(ctx context.Context) error {
		return createRunnerPod(ctx, env, session, operatorSA)
	})
	assertRunnerLabels(t, ctx, c, session)

	pod := session.Name + "-runner"
	_, stderr, err := env.Kubectl(ctx, nil, "-n", ns, "label", "pod", pod, v1alpha1.LabelRunner+"-")
	require.Error(t, err, "removing %s must be refused with the webhook down", v1alpha1.LabelRunner)
	assert.Contains(t, stderr, "ValidatingAdmissionPolicy 'ambient-code-runner-pods'")
	assert.Contains(t, stderr, "runner labels of a runner pod cannot be changed or removed once set")

	// A status write like the kubelet's: pods/status fails open too.
	_, stderr, err = env.Kubectl(ctx, nil, "-n", ns, "patch", "pod", pod, "--subresource=status", "--type=merge",
		"-p", `{"status":{"phase":"Running"}}`)
	require.NoError(t, err, "a runner pod's status write with the webhook down: %s", stderr)
}

// createRunnerPod creates the runner pod of s, without labels, as user.
func createRunnerPod(ctx context.Context, env *testenv.Env, s *v1alpha1.AgenticSession, user string) error {
	data, err := yaml.Marshal(runnerPod(s))
	if err != nil {
		return err
	}
	if _, stderr, err := env.Kubectl(ctx, data, "--as="+user, "create", "-f", "-"); err != nil {
		return fmt.Errorf("%v: %s", err, stderr)
	}
	return nil
}

// assertRunnerLabels checks that the stored runner pod of s has the runner labels.
func assertRunnerLabels(t *testing.T, ctx context.Context, c client.Client, s *v1alpha1.AgenticSession) {
	t.Helper()
	var stored corev1.Pod
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: s.Name + "-runner"}, &stored))
	for k, v := range v1alpha1.RunnerLabels(s.Name) {
		assert.Equal(t, v, stored.Labels[k], "label %s of the stored runner pod %s", k, stored.Name)
	}
}

func runnerPodManifest(t *testing.T, s *v1alpha1.AgenticSession) []byte {
	t.Helper()
	data, err := yaml.Marshal(runnerPod(s))
	require.NoError(t, err)
	return data
}

// runnerPod is the runner pod of s as the operator writes it, without labels.
func runnerPod(s *v1alpha1.AgenticSession) *corev1.Pod {
	yes := true
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: s.Name + "-runner",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "AgenticSession",
				Name: s.Name, UID: s.UID, Controller: &yes, BlockOwnerDeletion: &yes}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "runner", Image: "runner:test"}}},
	}
	return pod
}
