package chart

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// Pod webhook names, as config/webhook/manifests.yaml gives them.
const (
	mutatingPodWebhook   = "runner-pods.mutate.ambient-code.io"
	validatingPodWebhook = "runner-pods.validate.ambient-code.io"
)

// withoutPolicies is config/default without the objects of the given kinds and
// with the named pod webhooks failing closed: what the chart renders when it
// installs no policy of those kinds.
func withoutPolicies(t *testing.T, kinds []string, failClosed ...string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, o := range kustomizeDefault(t, filepath.Join(testenv.RepoRoot(t), "config", "default")) {
		if slices.Contains(kinds, o.GetKind()) {
			continue
		}
		if o.GetKind() == manifests.KindMutatingWebhookConfiguration || o.GetKind() == manifests.KindValidatingWebhookConfiguration {
			hooks, _, err := unstructured.NestedSlice(o.Object, "webhooks")
			require.NoError(t, err)
			for _, h := range hooks {
				hook := h.(map[string]any)
				if slices.Contains(failClosed, hook["name"].(string)) {
					hook["failurePolicy"] = "Fail"
				}
			}
			require.NoError(t, unstructured.SetNestedSlice(o.Object, hooks, "webhooks"))
		}
		out = append(out, o)
	}
	return out
}

// Without the policies nothing keeps the pod rules during an outage, so both
// pod webhooks fail closed even though webhook.failurePolicy.pods says Ignore.
func TestChartWithoutPoliciesFailsClosed(t *testing.T) {
	got := helmTemplate(t, "createNamespace=true", "policies.enabled=false", "webhook.failurePolicy.pods=Ignore")
	assertSameObjects(t, got, withoutPolicies(t, manifests.PolicyKinds, mutatingPodWebhook, validatingPodWebhook))
}

// Without the MutatingAdmissionPolicy (clusters before admissionregistration/v1
// has it) the validating policies stay and only the mutating pod webhook fails
// closed.
func TestChartWithoutMutatingPolicy(t *testing.T) {
	got := helmTemplate(t, "createNamespace=true", "policies.mutating.enabled=false")
	kinds := []string{manifests.KindMutatingAdmissionPolicy, manifests.KindMutatingAdmissionPolicyBinding}
	assertSameObjects(t, got, withoutPolicies(t, kinds, mutatingPodWebhook))
}

// In another namespace and with another prefix the policies' runner creators
// are still the chart's operator ServiceAccount, as the webhook's
// --runner-creators, and each binding names its policy by the prefixed name.
func TestChartPoliciesFollowNamespaceAndPrefix(t *testing.T) {
	const ns, prefix = "platform-system", "acme-"
	objs := helmTemplateIn(t, ns, "namePrefix="+prefix)

	creators, err := manifests.RunnerCreators(objs)
	require.NoError(t, err)
	var sa *unstructured.Unstructured
	for _, o := range manifests.OfKind(objs, "ServiceAccount") {
		if o.GetName() == prefix+"operator" {
			sa = o
		}
	}
	require.NotNil(t, sa, "ServiceAccount %soperator", prefix)
	assert.Equal(t, []string{"system:serviceaccount:" + ns + ":" + sa.GetName()}, creators)
	assert.Contains(t, webhookArgs(t, objs, prefix+"webhook"), "--runner-creators="+strings.Join(creators, ","))

	policies := map[string]bool{}
	for _, p := range manifests.OfKind(objs, manifests.KindValidatingAdmissionPolicy, manifests.KindMutatingAdmissionPolicy) {
		assert.True(t, strings.HasPrefix(p.GetName(), prefix), "%s %s is not prefixed", p.GetKind(), p.GetName())
		policies[p.GetKind()+"/"+p.GetName()] = true
	}
	require.Len(t, policies, 3)
	bindings := manifests.OfKind(objs, manifests.KindValidatingAdmissionPolicyBinding, manifests.KindMutatingAdmissionPolicyBinding)
	require.Len(t, bindings, len(policies))
	for _, b := range bindings {
		name, _, _ := unstructured.NestedString(b.Object, "spec", "policyName")
		assert.True(t, policies[strings.TrimSuffix(b.GetKind(), "Binding")+"/"+name], "%s %s binds %q", b.GetKind(), b.GetName(), name)
	}
	for _, o := range manifests.OfKind(objs, manifests.PolicyKinds...) {
		assert.Empty(t, o.GetNamespace(), "%s %s is cluster-scoped", o.GetKind(), o.GetName())
	}
}

// webhookArgs are the container args of the webhook Deployment named name.
func webhookArgs(t *testing.T, objs []*unstructured.Unstructured, name string) []string {
	t.Helper()
	for _, d := range manifests.OfKind(objs, "Deployment") {
		if d.GetName() != name {
			continue
		}
		containers, _, err := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		require.NoError(t, err)
		require.NotEmpty(t, containers)
		args, _, err := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
		require.NoError(t, err)
		return args
	}
	t.Fatalf("no Deployment %s", name)
	return nil
}
