package manifests

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Kinds of the admission webhook configurations.
const (
	KindMutatingWebhookConfiguration   = "MutatingWebhookConfiguration"
	KindValidatingWebhookConfiguration = "ValidatingWebhookConfiguration"
)

// Local says where a webhook server runs outside the cluster.
type Local struct {
	// BaseURL is the server's scheme, host and port, e.g. https://127.0.0.1:9443.
	// Each webhook's Service path is appended to it.
	BaseURL string
	// CABundle (PEM), when set, becomes every webhook's clientConfig.caBundle.
	CABundle []byte
}

// LocalWebhookConfigurations returns copies of the webhook configurations among
// objs that call local instead of the in-cluster Service. Only clientConfig
// changes: service is replaced by url (BaseURL + the service's path) and, when
// local.CABundle is set, caBundle is replaced (otherwise an existing one is kept). Rules, selectors, matchConditions,
// failure policies, timeouts and annotations stay exactly as config/ ships them,
// so what is tested or run locally is the shipped registration.
func LocalWebhookConfigurations(objs []*unstructured.Unstructured, local Local) ([]*unstructured.Unstructured, error) {
	base, err := url.Parse(local.BaseURL)
	if err != nil || base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("webhook base URL %q: must be https://host[:port]", local.BaseURL)
	}
	var out []*unstructured.Unstructured
	for _, o := range OfKind(objs, KindMutatingWebhookConfiguration, KindValidatingWebhookConfiguration) {
		c, err := withEachWebhook(o, func(hook map[string]any) error { return pointAt(hook, base, local.CABundle) })
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// withEachWebhook returns a copy of the webhook configuration o with edit
// applied to each of its webhooks.
func withEachWebhook(o *unstructured.Unstructured, edit func(hook map[string]any) error) (*unstructured.Unstructured, error) {
	c := o.DeepCopy()
	hooks, _, err := unstructured.NestedSlice(c.Object, "webhooks")
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", c.GetKind(), c.GetName(), err)
	}
	for i, h := range hooks {
		hook, ok := h.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s %s: webhook %d is not an object", c.GetKind(), c.GetName(), i)
		}
		if err := edit(hook); err != nil {
			return nil, fmt.Errorf("%s %s: webhook %q: %w", c.GetKind(), c.GetName(), hook["name"], err)
		}
	}
	if err := unstructured.SetNestedSlice(c.Object, hooks, "webhooks"); err != nil {
		return nil, fmt.Errorf("%s %s: %w", c.GetKind(), c.GetName(), err)
	}
	return c, nil
}

func pointAt(hook map[string]any, base *url.URL, caBundle []byte) error {
	path, found, err := unstructured.NestedString(hook, "clientConfig", "service", "path")
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("clientConfig has no service path to rewrite")
	}
	cc := map[string]any{"url": strings.TrimSuffix(base.String(), "/") + path}
	if old, ok, _ := unstructured.NestedString(hook, "clientConfig", "caBundle"); ok {
		cc["caBundle"] = old
	}
	if len(caBundle) > 0 {
		// []byte fields travel as base64 in JSON.
		cc["caBundle"] = base64.StdEncoding.EncodeToString(caBundle)
	}
	hook["clientConfig"] = cc
	return nil
}

// WithoutPolicies returns objs with the webhook configurations as a cluster
// without the admission policies needs them (the chart's policies.enabled=false):
// the pod webhooks fail closed; the session webhooks fail open as shipped. The shipped pod webhooks fail open only because the
// policies enforce the same rules inside the API server; suites that test the
// webhook alone test this registration. Other objects are returned as they are.
func WithoutPolicies(objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		if o.GetKind() != KindMutatingWebhookConfiguration && o.GetKind() != KindValidatingWebhookConfiguration {
			out = append(out, o)
			continue
		}
		c, err := withEachWebhook(o, func(hook map[string]any) error {
			if isPodWebhook(hook) {
				hook["failurePolicy"] = "Fail"
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// isPodWebhook reports whether a webhook's rules name pods.
func isPodWebhook(hook map[string]any) bool {
	rules, _, _ := unstructured.NestedSlice(hook, "rules")
	for _, r := range rules {
		res, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "resources")
		for _, name := range res {
			if name == "pods" || strings.HasPrefix(name, "pods/") {
				return true
			}
		}
	}
	return false
}
