package cache

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func TestOptions(t *testing.T) {
	opts := Options(nil, Scope{})
	assert.True(t, opts.ReaderFailOnMissingInformer)
	assert.NotNil(t, opts.DefaultTransform)
	assert.Empty(t, opts.DefaultNamespaces)
	require.Len(t, opts.ByObject, 5, "pods, namespaces, sessions, ProjectSettings and the operator's Services, nothing else (project objects are in operator/ledger)")

	kinds := map[string]string{}
	for obj, by := range opts.ByObject {
		sel := ""
		if by.Label != nil {
			sel = by.Label.String()
		}
		if by.Field != nil {
			sel += " " + by.Field.String()
		}
		kinds[typeName(obj)] = sel
	}
	assert.Equal(t, map[string]string{
		"*v1.Pod":                   "ambient-code.io/runner=true",
		"*v1.Namespace":             "ambient-code.io/managed=true",
		"*v1alpha1.AgenticSession":  "!ambient-code.io/archived",
		"*v1alpha1.ProjectSettings": "",
		"*v1.Service":               "app=ambient-code-runner",
	}, kinds)

	runner := labels.Set(v1alpha1.RunnerLabels("s"))
	assert.True(t, v1alpha1.RunnerPodSelector().Matches(runner))
	assert.False(t, v1alpha1.RunnerPodSelector().Matches(labels.Set{v1alpha1.LabelApp: v1alpha1.RunnerAppName}))
}

func TestOptionsForOneNamespace(t *testing.T) {
	opts := Options(nil, Scope{Namespace: "proj"})
	assert.Contains(t, opts.DefaultNamespaces, "proj")
	for obj, by := range opts.ByObject {
		if _, ok := obj.(*corev1.Namespace); ok {
			require.NotNil(t, by.Field)
			assert.Equal(t, "metadata.name=proj", by.Field.String())
			assert.Equal(t, "ambient-code.io/managed=true", by.Label.String())
		}
	}
}

func TestClientOptionsBypassTheCacheForUncachedKinds(t *testing.T) {
	opts := ClientOptions()
	require.NotNil(t, opts.Cache)
	var got []string
	for _, o := range opts.Cache.DisableFor {
		got = append(got, typeName(o))
	}
	assert.ElementsMatch(t, []string{"*v1.Secret", "*v1.ConfigMap", "*v1.Service", "*v1.ServiceAccount", "*v1.LimitRange", "*v1.RoleBinding", "*v1.NetworkPolicy"}, got)
}

func typeName(o client.Object) string { return fmt.Sprintf("%T", o) }

func TestUnindexedKindsGoWithoutTheNamespaceIndex(t *testing.T) {
	indexers := toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc}
	lw := &toolscache.ListWatch{}
	for obj, indexed := range map[runtime.Object]bool{
		&v1alpha1.ProjectSettings{}: false,
		&corev1.Namespace{}:         false,
		&v1alpha1.AgenticSession{}:  true, // listed by namespace (inactivity, a newly managed namespace)
		&corev1.Pod{}:               true,
	} {
		got := newInformer(lw, obj, 0, indexers).GetIndexer().GetIndexers()
		_, ok := got[toolscache.NamespaceIndex]
		assert.Equal(t, indexed, ok, "%T", obj)
	}
	assert.Contains(t, indexers, toolscache.NamespaceIndex, "the caller's indexers are left as they were")

	// A List in a namespace of an unindexed kind fails rather than answering.
	inf := newInformer(lw, &v1alpha1.ProjectSettings{}, 0, indexers)
	_, err := inf.GetIndexer().ByIndex(toolscache.NamespaceIndex, "proj")
	assert.ErrorContains(t, err, "does not exist")
}
