package manifests

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const twoConfigurations = `
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: m
  annotations: {cert-manager.io/inject-ca-from: ns/cert}
webhooks:
- name: pods.example.io
  failurePolicy: Fail
  reinvocationPolicy: IfNeeded
  clientConfig:
    service: {name: svc, namespace: ns, path: /mutate-v1-pod}
  matchConditions:
  - {name: c, expression: "object != null"}
- name: sessions.example.io
  failurePolicy: Ignore
  clientConfig:
    caBundle: b2xk
    service: {name: svc, namespace: ns, path: /mutate-agenticsession, port: 8443}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: ns}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: v}
webhooks:
- name: pods.example.io
  clientConfig:
    service: {name: svc, namespace: ns, path: /validate-v1-pod}
`

func clientConfigs(t *testing.T, o *unstructured.Unstructured) []map[string]any {
	t.Helper()
	hooks, _, err := unstructured.NestedSlice(o.Object, "webhooks")
	require.NoError(t, err)
	var out []map[string]any
	for _, h := range hooks {
		out = append(out, h.(map[string]any)["clientConfig"].(map[string]any))
	}
	return out
}

// withoutClientConfigs drops every webhook's clientConfig, leaving what must not change.
func withoutClientConfigs(o *unstructured.Unstructured) map[string]any {
	c := o.DeepCopy()
	hooks, _, _ := unstructured.NestedSlice(c.Object, "webhooks")
	for _, h := range hooks {
		delete(h.(map[string]any), "clientConfig")
	}
	_ = unstructured.SetNestedSlice(c.Object, hooks, "webhooks")
	return c.Object
}

func TestLocalWebhookConfigurationsRewritesOnlyClientConfig(t *testing.T) {
	objs, err := Decode([]byte(twoConfigurations))
	require.NoError(t, err)
	ca := []byte("-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n")

	got, err := LocalWebhookConfigurations(objs, Local{BaseURL: "https://127.0.0.1:9443/", CABundle: ca})
	require.NoError(t, err)
	require.Len(t, got, 2, "the Service is not a webhook configuration")

	wantCA := base64.StdEncoding.EncodeToString(ca)
	assert.Equal(t, []map[string]any{
		{"url": "https://127.0.0.1:9443/mutate-v1-pod", "caBundle": wantCA},
		{"url": "https://127.0.0.1:9443/mutate-agenticsession", "caBundle": wantCA},
	}, clientConfigs(t, got[0]))
	assert.Equal(t, []map[string]any{
		{"url": "https://127.0.0.1:9443/validate-v1-pod", "caBundle": wantCA},
	}, clientConfigs(t, got[1]))

	assert.Equal(t, withoutClientConfigs(objs[0]), withoutClientConfigs(got[0]))
	assert.Equal(t, withoutClientConfigs(objs[2]), withoutClientConfigs(got[1]))
	// The input is left alone.
	assert.Equal(t, "/mutate-v1-pod", clientConfigs(t, objs[0])[0]["service"].(map[string]any)["path"])
}

func TestLocalWebhookConfigurationsKeepsExistingCABundleWhenNoneGiven(t *testing.T) {
	objs, err := Decode([]byte(twoConfigurations))
	require.NoError(t, err)
	got, err := LocalWebhookConfigurations(objs, Local{BaseURL: "https://localhost:1234"})
	require.NoError(t, err)
	assert.Equal(t, []map[string]any{
		{"url": "https://localhost:1234/mutate-v1-pod"},
		{"url": "https://localhost:1234/mutate-agenticsession", "caBundle": "b2xk"},
	}, clientConfigs(t, got[0]))
}

func TestLocalWebhookConfigurationsRefusesBadInput(t *testing.T) {
	objs, err := Decode([]byte(twoConfigurations))
	require.NoError(t, err)
	for _, base := range []string{"http://127.0.0.1:9443", "127.0.0.1:9443", "https://"} {
		_, err := LocalWebhookConfigurations(objs, Local{BaseURL: base})
		assert.ErrorContains(t, err, "must be https://host[:port]", base)
	}

	urlOnly, err := Decode([]byte("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: v}\nwebhooks:\n- name: x.example.io\n  clientConfig: {url: 'https://elsewhere'}\n"))
	require.NoError(t, err)
	_, err = LocalWebhookConfigurations(urlOnly, Local{BaseURL: "https://127.0.0.1:9443"})
	assert.ErrorContains(t, err, `webhook "x.example.io": clientConfig has no service path to rewrite`)
}
