package crdcompat

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/ambient-code/agentic-operator/test/testenv"
)

func TestCorpusIsWellFormed(t *testing.T) {
	cases, err := LoadCases("testdata")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 10)
	var accepted, rejected int
	for _, c := range cases {
		for _, s := range c.Steps {
			if s.Reject {
				rejected++
			} else {
				accepted++
			}
		}
	}
	assert.Positive(t, accepted, "steps both servers accept")
	assert.Positive(t, rejected, "steps both servers refuse")
}

func TestStepValidationRefusesMalformedSteps(t *testing.T) {
	for name, step := range map[string]Step{
		"unknown verb":              {Kubectl: "delete", Object: map[string]any{}},
		"create without object":     {Kubectl: "create"},
		"object with its namespace": {Kubectl: "create", Object: map[string]any{"metadata": map[string]any{"namespace": "x"}}},
		"patch without target":      {Kubectl: "patch", Patch: map[string]any{}},
		"patch of unknown type":     {Kubectl: "patch", Target: "a/b", Patch: map[string]any{}, PatchType: "strategic"},
		"ontoStored on create":      {Kubectl: "create", Object: map[string]any{}, OntoStored: true},
	} {
		assert.Error(t, step.validate(), name)
	}
	assert.NoError(t, Step{Kubectl: "patch", Target: "a/b", Patch: []any{}, PatchType: "json"}.validate())
}

// The samples case applies config/samples with kustomize: a sample left out of the
// kustomization would silently escape the comparison.
func TestSamplesKustomizationListsEverySample(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(t), SamplesCase().Steps[0].Kustomize)
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	require.NoError(t, err)
	var k struct {
		Resources []string `json:"resources"`
	}
	require.NoError(t, yaml.Unmarshal(data, &k))
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	require.NoError(t, err)
	var samples []string
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" {
			samples = append(samples, base)
		}
	}
	slices.Sort(k.Resources)
	assert.Equal(t, samples, k.Resources)
	assert.Len(t, samples, 3)
}
