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
	for _, dir := range []string{"crd", "rbac", "webhook", "certmanager", "operator", "default"} {
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
		"ServiceAccount": 2, "ClusterRole": 1, "ClusterRoleBinding": 1, "Role": 1, "RoleBinding": 1,
		"Service": 1, "Deployment": 2, "PodDisruptionBudget": 1,
		"Issuer": 2, "Certificate": 2,
		"MutatingWebhookConfiguration": 1, "ValidatingWebhookConfiguration": 1,
	}, kinds)

	clusterScoped := map[string]bool{
		"Namespace": true, "CustomResourceDefinition": true, "ClusterRole": true, "ClusterRoleBinding": true,
		"MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true,
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
	assert.False(t, *webhook.Spec.Template.Spec.AutomountServiceAccountToken, "the webhook needs no API access")
	operator := only[appsv1.Deployment](t, objs, "Deployment", namePrefix+"operator")
	assert.Contains(t, operator.Spec.Template.Spec.Containers[0].Args, "--leader-elect")
}
