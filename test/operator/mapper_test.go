package operator_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// TestStaticRESTMapperMatchesDiscovery: for every kind of the operator's scheme
// the real API server serves, the static mapper gives the resource and scope
// discovery gives; and every kind the operator reads or writes is among them.
func TestStaticRESTMapperMatchesDiscovery(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	scheme, err := manager.NewScheme()
	require.NoError(t, err)
	httpClient, err := rest.HTTPClientFor(env.Config)
	require.NoError(t, err)
	discovered, err := apiutil.NewDynamicRESTMapper(env.Config, httpClient)
	require.NoError(t, err)
	static := manager.StaticRESTMapper(scheme)

	served := map[string]bool{}
	for gvk := range scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal || strings.HasSuffix(gvk.Kind, "List") {
			continue
		}
		want, err := discovered.RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) {
			continue // not a served kind (options, WatchEvent, Status...)
		}
		require.NoError(t, err, "%s", gvk)
		got, err := static.RESTMapping(gvk.GroupKind(), gvk.Version)
		require.NoError(t, err, "%s", gvk)
		assert.Equal(t, want.Resource, got.Resource, "%s", gvk)
		assert.Equal(t, want.Scope.Name(), got.Scope.Name(), "%s", gvk)
		served[gvk.Kind] = true
	}
	for _, kind := range []string{"Pod", "Service", "Secret", "ConfigMap", "ServiceAccount", "Namespace", "LimitRange",
		"RoleBinding", "NetworkPolicy", "AgenticSession", "ProjectSettings"} {
		assert.True(t, served[kind], "%s is mapped and served", kind)
	}
}
