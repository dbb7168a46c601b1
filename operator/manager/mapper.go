package manager

import (
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// clusterScoped are the kinds of the operator's scheme that are not namespaced.
var clusterScoped = map[schema.GroupKind]bool{
	{Kind: "Namespace"}: true, {Kind: "Node"}: true, {Kind: "PersistentVolume"}: true, {Kind: "ComponentStatus"}: true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:        true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}: true,
	{Group: "authentication.k8s.io", Kind: "TokenReview"}:            true,
	{Group: "authentication.k8s.io", Kind: "SelfSubjectReview"}:      true,
	{Group: "networking.k8s.io", Kind: "IngressClass"}:               true,
	{Group: "networking.k8s.io", Kind: "IPAddress"}:                  true,
	{Group: "networking.k8s.io", Kind: "ServiceCIDR"}:                true,
}

// plurals are the resources whose names the usual guess gets wrong.
var plurals = map[schema.GroupKind]string{
	{Group: v1alpha1.GroupVersion.Group, Kind: v1alpha1.KindProjectSettings}: "projectsettings",
	{Kind: "Endpoints"}: "endpoints",
}

// StaticRESTMapper maps every kind of scheme to its resource and scope without
// asking the API server: the operator knows the few groups it uses, so a start
// (or a restart after a crash) makes no discovery requests, and a kind the
// scheme lacks fails at once instead of costing a round trip.
// TestStaticRESTMapperMatchesDiscovery compares it with the real API server.
func StaticRESTMapper(scheme *runtime.Scheme) meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(scheme.PrioritizedVersionsAllGroups())
	for gvk := range scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal || strings.HasSuffix(gvk.Kind, "List") || strings.HasSuffix(gvk.Kind, "Options") {
			continue
		}
		scope := meta.RESTScopeNamespace
		if clusterScoped[gvk.GroupKind()] {
			scope = meta.RESTScopeRoot
		}
		plural, singular := meta.UnsafeGuessKindToResource(gvk)
		if p, ok := plurals[gvk.GroupKind()]; ok {
			plural = gvk.GroupVersion().WithResource(p)
		}
		m.AddSpecific(gvk, plural, singular, scope)
	}
	return m
}

// staticMapperProvider is StaticRESTMapper as a manager's MapperProvider.
func staticMapperProvider(scheme *runtime.Scheme) func(*rest.Config, *http.Client) (meta.RESTMapper, error) {
	return func(*rest.Config, *http.Client) (meta.RESTMapper, error) { return StaticRESTMapper(scheme), nil }
}
