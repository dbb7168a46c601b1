package manifests

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ambient-code/agentic-operator/test/testenv"
)

const (
	installNamespace = "ambient-code-system"
	namePrefix       = "ambient-code-"
)

// buildConfig runs the built kubectl's kustomize on config/<dir>.
func buildConfig(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	kubectl := filepath.Join(testenv.BinDir(t), "kubectl")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	objs, err := Build(ctx, kubectl, filepath.Join(testenv.RepoRoot(t), "config", dir))
	require.NoError(t, err)
	return objs
}

// only converts the single object of kind named name (after the prefix) to T.
func only[T any](t *testing.T, objs []*unstructured.Unstructured, kind, name string) *T {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, o := range OfKind(objs, kind) {
		if o.GetName() == name {
			found = append(found, o)
		}
	}
	require.Len(t, found, 1, "%s %s", kind, name)
	out := new(T)
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(found[0].Object, out))
	return out
}

func TestEveryConfigDirectoryBuilds(t *testing.T) {
	for _, dir := range []string{"crd", "rbac", "webhook", "certmanager", "operator", "policies", "default"} {
		t.Run(dir, func(t *testing.T) {
			assert.NotEmpty(t, buildConfig(t, dir))
		})
	}
}

func TestDefaultInstallsEverythingInOneNamespace(t *testing.T) {
	objs := buildConfig(t, "default")

	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.GetKind()]++
	}
	assert.Equal(t, map[string]int{
		"Namespace": 1, "CustomResourceDefinition": 2,
		"ServiceAccount": 2, "ClusterRole": 5, "ClusterRoleBinding": 3, "Role": 1, "RoleBinding": 1,
		"Service": 1, "Deployment": 2, "PodDisruptionBudget": 1,
		"Issuer": 2, "Certificate": 2,
		"MutatingWebhookConfiguration": 1, "ValidatingWebhookConfiguration": 1,
		"ValidatingAdmissionPolicy": 2, "ValidatingAdmissionPolicyBinding": 2,
		"MutatingAdmissionPolicy": 1, "MutatingAdmissionPolicyBinding": 1,
	}, kinds)

	// The policy kinds too: kustomize gives them the namespace unless
	// config/default removes it again.
	clusterScoped := map[string]bool{
		"Namespace": true, "CustomResourceDefinition": true, "ClusterRole": true, "ClusterRoleBinding": true,
		"MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true,
	}
	for _, k := range PolicyKinds {
		clusterScoped[k] = true
	}
	for _, o := range objs {
		id := o.GetKind() + " " + o.GetName()
		if clusterScoped[o.GetKind()] {
			assert.Empty(t, o.GetNamespace(), id)
		} else {
			assert.Equal(t, installNamespace, o.GetNamespace(), id)
		}
		if o.GetKind() != "CustomResourceDefinition" {
			assert.True(t, strings.HasPrefix(o.GetName(), namePrefix), "%s is not prefixed", id)
		}
	}
	ns := only[corev1.Namespace](t, objs, "Namespace", installNamespace)
	assert.NotEqual(t, "true", ns.Labels["ambient-code.io/managed"], "the webhook must never be called for its own namespace")
}

func TestDefaultNamesStayConsistent(t *testing.T) {
	objs := buildConfig(t, "default")
	svc := only[corev1.Service](t, objs, "Service", namePrefix+"webhook-service")
	serving := only[cmapi.Certificate](t, objs, "Certificate", namePrefix+"serving-cert")
	caCert := only[cmapi.Certificate](t, objs, "Certificate", namePrefix+"webhook-ca")
	caIssuer := only[cmapi.Issuer](t, objs, "Issuer", namePrefix+"ca-issuer")
	webhook := only[appsv1.Deployment](t, objs, "Deployment", namePrefix+"webhook")

	host := svc.Name + "." + svc.Namespace + ".svc"
	assert.Equal(t, []string{host, host + ".cluster.local"}, serving.Spec.DNSNames)
	assert.Equal(t, caIssuer.Name, serving.Spec.IssuerRef.Name)
	assert.Equal(t, caCert.Spec.SecretName, caIssuer.Spec.CA.SecretName)
	require.NotNil(t, caIssuer.Spec.CA)
	only[cmapi.Issuer](t, objs, "Issuer", caCert.Spec.IssuerRef.Name)

	// The Deployment mounts the Secret the Certificate writes, at --cert-dir.
	spec := webhook.Spec.Template.Spec
	require.Len(t, spec.Volumes, 1)
	assert.Equal(t, serving.Spec.SecretName, spec.Volumes[0].Secret.SecretName)
	require.Len(t, spec.Containers, 1)
	require.Len(t, spec.Containers[0].VolumeMounts, 1)
	assert.Contains(t, spec.Containers[0].Args, "--cert-dir="+spec.Containers[0].VolumeMounts[0].MountPath)

	inject := serving.Namespace + "/" + serving.Name
	mutating := only[admissionv1.MutatingWebhookConfiguration](t, objs, "MutatingWebhookConfiguration", namePrefix+"mutating-webhook-configuration")
	validating := only[admissionv1.ValidatingWebhookConfiguration](t, objs, "ValidatingWebhookConfiguration", namePrefix+"validating-webhook-configuration")
	assert.Equal(t, inject, mutating.Annotations["cert-manager.io/inject-ca-from"])
	assert.Equal(t, inject, validating.Annotations["cert-manager.io/inject-ca-from"])
	var refs []admissionv1.ServiceReference
	for _, h := range mutating.Webhooks {
		refs = append(refs, *h.ClientConfig.Service)
	}
	for _, h := range validating.Webhooks {
		refs = append(refs, *h.ClientConfig.Service)
	}
	require.Len(t, refs, 3)
	for _, r := range refs {
		assert.Equal(t, svc.Name, r.Name)
		assert.Equal(t, svc.Namespace, r.Namespace)
	}

	operatorSA := only[corev1.ServiceAccount](t, objs, "ServiceAccount", namePrefix+"operator")
	crb := only[rbacv1.ClusterRoleBinding](t, objs, "ClusterRoleBinding", namePrefix+"operator")
	rb := only[rbacv1.RoleBinding](t, objs, "RoleBinding", namePrefix+"leader-election")
	for _, subjects := range [][]rbacv1.Subject{crb.Subjects, rb.Subjects} {
		assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: operatorSA.Name, Namespace: installNamespace}}, subjects)
	}
}

func TestDefaultDeploymentsRunRestricted(t *testing.T) {
	objs := buildConfig(t, "default")
	for _, name := range []string{"webhook", "operator"} {
		d := only[appsv1.Deployment](t, objs, "Deployment", namePrefix+name)
		pod := d.Spec.Template.Spec
		require.NotNil(t, pod.SecurityContext, name)
		assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.SecurityContext.SeccompProfile.Type, name)
		assert.True(t, *pod.SecurityContext.RunAsNonRoot, name)
		for _, c := range pod.Containers {
			sc := c.SecurityContext
			require.NotNil(t, sc, name)
			assert.True(t, *sc.ReadOnlyRootFilesystem, name)
			assert.False(t, *sc.AllowPrivilegeEscalation, name)
			assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop, name)
			assert.NotEmpty(t, c.Resources.Requests, name)
			assert.NotEmpty(t, c.Resources.Limits, name)
			assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path, name)
			assert.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path, name)
		}
	}
	webhook := only[appsv1.Deployment](t, objs, "Deployment", namePrefix+"webhook")
	assert.Equal(t, int32(2), *webhook.Spec.Replicas)
	assert.NotNil(t, webhook.Spec.Template.Spec.Affinity.PodAntiAffinity)
	assert.Equal(t, []string{namePrefix + "metrics-auth"}, rolesBoundTo(t, objs, namePrefix+"webhook"),
		"the webhook reads nothing from the API: its token only reviews /metrics requests")
	operator := only[appsv1.Deployment](t, objs, "Deployment", namePrefix+"operator")
	assert.Contains(t, operator.Spec.Template.Spec.Containers[0].Args, "--leader-elect")
}

// The admission policies ship in config/default, cluster-scoped, bound by their
// prefixed names, and with the runner creators the webhook is given: the
// operator's ServiceAccount as config/default names it.
func TestDefaultInstallsThePoliciesForTheOperator(t *testing.T) {
	objs := buildConfig(t, "default")
	policies := OfKind(objs, KindValidatingAdmissionPolicy, KindMutatingAdmissionPolicy)
	bindings := OfKind(objs, KindValidatingAdmissionPolicyBinding, KindMutatingAdmissionPolicyBinding)
	names := map[string]bool{}
	for _, p := range policies {
		names[p.GetKind()+"/"+p.GetName()] = true
	}
	assert.Equal(t, map[string]bool{
		"ValidatingAdmissionPolicy/" + namePrefix + "runner-pods":                  true,
		"ValidatingAdmissionPolicy/" + namePrefix + "projectsettings-group-access": true,
		"MutatingAdmissionPolicy/" + namePrefix + "runner-pod-labels":              true,
	}, names)
	require.Len(t, bindings, len(policies), "one binding per policy")
	for _, b := range bindings {
		policyName, _, _ := unstructured.NestedString(b.Object, "spec", "policyName")
		policyKind := strings.TrimSuffix(b.GetKind(), "Binding")
		assert.True(t, names[policyKind+"/"+policyName], "%s %s binds %s %q, which config/default does not hold", b.GetKind(), b.GetName(), policyKind, policyName)
	}
	for _, o := range append(policies, bindings...) {
		assert.NotContains(t, o.Object["metadata"], "namespace", "%s %s is cluster-scoped", o.GetKind(), o.GetName())
	}

	creators, err := RunnerCreators(objs)
	require.NoError(t, err)
	sa := only[corev1.ServiceAccount](t, objs, "ServiceAccount", namePrefix+"operator")
	assert.Equal(t, []string{"system:serviceaccount:" + sa.Namespace + ":" + sa.Name}, creators,
		"the policies' runner creators are the operator's ServiceAccount")
	webhook := only[appsv1.Deployment](t, objs, "Deployment", namePrefix+"webhook")
	assert.Contains(t, webhook.Spec.Template.Spec.Containers[0].Args, "--runner-creators="+strings.Join(creators, ","),
		"the webhook and the policies name the same runner creators")
}

// The pod webhooks fail open because config/default's policies enforce the pod
// rules for the same requests inside the API server; the session webhook
// fails open on its own grounds.
func TestDefaultPodWebhooksFailOpenBehindThePolicies(t *testing.T) {
	objs := buildConfig(t, "default")
	mutating := only[admissionv1.MutatingWebhookConfiguration](t, objs, KindMutatingWebhookConfiguration, namePrefix+"mutating-webhook-configuration")
	validating := only[admissionv1.ValidatingWebhookConfiguration](t, objs, KindValidatingWebhookConfiguration, namePrefix+"validating-webhook-configuration")
	vap := only[admissionv1.ValidatingAdmissionPolicy](t, objs, KindValidatingAdmissionPolicy, namePrefix+"runner-pods")
	mapol := only[admissionv1.MutatingAdmissionPolicy](t, objs, KindMutatingAdmissionPolicy, namePrefix+"runner-pod-labels")

	policies := map[string]struct {
		rules []admissionv1.NamedRuleWithOperations
		fail  *admissionv1.FailurePolicyType
	}{
		"runner-pods.mutate.ambient-code.io":   {mapol.Spec.MatchConstraints.ResourceRules, mapol.Spec.FailurePolicy},
		"runner-pods.validate.ambient-code.io": {vap.Spec.MatchConstraints.ResourceRules, vap.Spec.FailurePolicy},
	}
	check := func(name string, fp *admissionv1.FailurePolicyType, rules []admissionv1.RuleWithOperations) {
		require.NotNil(t, fp, name)
		p, isPod := policies[name]
		if !isPod {
			assert.Equal(t, admissionv1.Ignore, *fp, "%s fails open", name)
			return
		}
		assert.Equal(t, admissionv1.Ignore, *fp, "%s fails open behind the policies", name)
		require.NotNil(t, p.fail, name)
		assert.Equal(t, admissionv1.Fail, *p.fail, "the policy behind %s fails closed: an evaluation error must not let a pod through", name)
		require.Len(t, rules, 1, name)
		require.Len(t, p.rules, 1, name)
		assert.Equal(t, rules[0].Operations, p.rules[0].Operations, "%s and its policy see the same operations", name)
		assert.Equal(t, rules[0].Resources, p.rules[0].Resources, "%s and its policy see the same resources", name)
		delete(policies, name)
	}
	for _, h := range mutating.Webhooks {
		check(h.Name, h.FailurePolicy, h.Rules)
	}
	for _, h := range validating.Webhooks {
		check(h.Name, h.FailurePolicy, h.Rules)
	}
	assert.Empty(t, policies, "pod webhooks missing from config/default")
}

// rolesBoundTo lists the roles config/default binds to ServiceAccount sa of
// the install namespace.
func rolesBoundTo(t *testing.T, objs []*unstructured.Unstructured, sa string) []string {
	t.Helper()
	var roles []string
	for _, o := range OfKind(objs, "RoleBinding", "ClusterRoleBinding") {
		var b rbacv1.RoleBinding // a ClusterRoleBinding has the same roleRef and subjects
		require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &b), "%s %s", o.GetKind(), o.GetName())
		for _, s := range b.Subjects {
			if s.Kind == "ServiceAccount" && s.Name == sa && s.Namespace == installNamespace {
				roles = append(roles, b.RoleRef.Name)
			}
		}
	}
	return roles
}

func TestWithoutPoliciesFailsThePodWebhooksClosed(t *testing.T) {
	shipped := buildConfig(t, "default")
	objs, err := WithoutPolicies(shipped)
	require.NoError(t, err)
	require.Len(t, objs, len(shipped))
	mutating := only[admissionv1.MutatingWebhookConfiguration](t, objs, KindMutatingWebhookConfiguration, namePrefix+"mutating-webhook-configuration")
	validating := only[admissionv1.ValidatingWebhookConfiguration](t, objs, KindValidatingWebhookConfiguration, namePrefix+"validating-webhook-configuration")
	want := map[string]admissionv1.FailurePolicyType{
		"runner-pods.mutate.ambient-code.io":   admissionv1.Fail,
		"runner-pods.validate.ambient-code.io": admissionv1.Fail,
	}
	got := map[string]admissionv1.FailurePolicyType{}
	for _, h := range mutating.Webhooks {
		got[h.Name] = *h.FailurePolicy
	}
	for _, h := range validating.Webhooks {
		got[h.Name] = *h.FailurePolicy
	}
	for name, fp := range got {
		if w, isPod := want[name]; isPod {
			assert.Equal(t, w, fp, name)
		} else {
			assert.Equal(t, admissionv1.Ignore, fp, "%s (sessions) fails open as shipped", name)
		}
	}
	assert.Len(t, got, 3, "both pod webhooks and the session webhook")
	// The input is left alone.
	shippedMutating := only[admissionv1.MutatingWebhookConfiguration](t, shipped, KindMutatingWebhookConfiguration, namePrefix+"mutating-webhook-configuration")
	assert.Equal(t, admissionv1.Ignore, *shippedMutating.Webhooks[0].FailurePolicy)
}
