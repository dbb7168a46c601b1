package crdcompat

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/ambient-code/agentic-operator/test/testenv"
)

// crdPair names one CRD as the platform ships it and as we generate it.
type crdPair struct{ upstream, ours string }

func crdPairs(t *testing.T) []crdPair {
	t.Helper()
	ref := filepath.Join("testdata", "upstream")
	bases := filepath.Join(testenv.RepoRoot(t), "config", "crd", "bases")
	return []crdPair{
		{filepath.Join(ref, "agenticsessions-crd.upstream.yaml"), filepath.Join(bases, "vteam.ambient-code_agenticsessions.yaml")},
		{filepath.Join(ref, "projectsettings-crd.upstream.yaml"), filepath.Join(bases, "vteam.ambient-code_projectsettings.yaml")},
	}
}

// TestUpstreamCopiesCurrent checks the CRDs kept as test data against the
// platform's reference copies where those are at hand (beside the project on
// developer machines and in CI; a user's clone has only the test data).
func TestUpstreamCopiesCurrent(t *testing.T) {
	ref := filepath.Join(testenv.RepoRoot(t), "..", "shared", "reference")
	if _, err := os.Stat(ref); err != nil {
		t.Skipf("no reference CRDs beside the repository to compare the test data with (%v)", err)
	}
	for _, name := range []string{"agenticsessions-crd.upstream.yaml", "projectsettings-crd.upstream.yaml"} {
		want, err := os.ReadFile(filepath.Join(ref, name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join("testdata", "upstream", name))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), "testdata/upstream/%s differs from the reference: copy it again", name)
	}
}

func TestCRDsMatchUpstreamStructurally(t *testing.T) {
	for _, pair := range crdPairs(t) {
		t.Run(filepath.Base(pair.ours), func(t *testing.T) {
			upstream, err := LoadCRD(pair.upstream)
			require.NoError(t, err)
			ours, err := LoadCRD(pair.ours)
			require.NoError(t, err)

			diffs, err := DiffCRDs(upstream, ours)
			require.NoError(t, err)
			assert.Empty(t, diffs, "ours differs from upstream:\n%s", strings.Join(diffs, "\n"))

			// Guard against a walk that finds nothing to compare.
			facets, err := versionFacets(version(upstream, "v1alpha1"))
			require.NoError(t, err)
			assert.Greater(t, len(facets), 10, "upstream schema paths compared")
		})
	}
}

func loadOurs(t *testing.T, name string) *apiextv1.CustomResourceDefinition {
	t.Helper()
	crd, err := LoadCRD(filepath.Join(testenv.RepoRoot(t), "config", "crd", "bases", name))
	require.NoError(t, err)
	return crd
}

func TestDiffCRDsReportsEveryNarrowing(t *testing.T) {
	base := loadOurs(t, "vteam.ambient-code_agenticsessions.yaml")
	diffs, err := DiffCRDs(base, base.DeepCopy())
	require.NoError(t, err)
	require.Empty(t, diffs, "a CRD differs from its own copy")

	changed := base.DeepCopy()
	changed.Spec.Names.Singular = "session"
	changed.Spec.Names.ShortNames = nil
	changed.Spec.Versions[0].Subresources = nil
	changed.Spec.Versions[0].AdditionalPrinterColumns = nil
	root := changed.Spec.Versions[0].Schema.OpenAPIV3Schema
	spec, status := root.Properties["spec"], root.Properties["status"]
	phase := status.Properties["phase"]
	phase.Enum = phase.Enum[:3]
	status.Properties["phase"] = phase
	llm := spec.Properties["llmSettings"]
	temp := llm.Properties["temperature"]
	temp.Default = &apiextv1.JSON{Raw: []byte(`0.5`)}
	llm.Properties["temperature"] = temp
	spec.Properties["llmSettings"] = llm
	delete(spec.Properties, "timeout")
	spec.Properties["extra"] = apiextv1.JSONSchemaProps{Type: "string"}
	repoItems := spec.Properties["repos"].Items.Schema
	repoItems.Required = append(repoItems.Required, "branch")
	inactivity := spec.Properties["inactivityTimeout"]
	inactivity.Minimum = nil
	spec.Properties["inactivityTimeout"] = inactivity
	temp.Description = "descriptions do not count"

	diffs, err = DiffCRDs(base, changed)
	require.NoError(t, err)
	report := strings.Join(diffs, "\n")
	for _, want := range []string{
		"names.singular: upstream agenticsession, ours session",
		"names.shortNames: upstream [as], ours []",
		"versions[v1alpha1].subresources: upstream {\"status\":{}}, ours null",
		"additionalPrinterColumns: ours lacks",
		`status.phase: enum: upstream ["Pending","Creating","Running","Stopping","Stopped","Completed","Failed"], ours ["Pending","Creating","Running"]`,
		"spec.llmSettings.temperature: default: upstream 0.7, ours 0.5",
		"spec.timeout: missing in ours",
		"spec.extra: only in ours",
		`spec.repos[]: required: upstream ["url"], ours ["branch","url"]`,
		"spec.inactivityTimeout: minimum: upstream 0, ours (none)",
	} {
		assert.Contains(t, report, want)
	}
	assert.Len(t, diffs, 11, report)
}

func TestFlattenNamesItemsAndMapValues(t *testing.T) {
	crd := loadOurs(t, "vteam.ambient-code_agenticsessions.yaml")
	facets, err := Flatten(crd.Spec.Versions[0].Schema.OpenAPIV3Schema)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"type": `"object"`, "x-kubernetes-preserve-unknown-fields": "true"},
		facets["spec.mcpServers.custom{}"])
	assert.Equal(t, `"main"`, facets["spec.repos[].branch"]["default"])
	assert.Equal(t, `"date-time"`, facets["status.conditions[].lastTransitionTime"]["format"])
	assert.Equal(t, map[string]string{"type": `"object"`}, facets["spec.userContext"])
}
