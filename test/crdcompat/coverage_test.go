package crdcompat

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCoverageCountsMapValuesAndItemsNotFreeFormContent(t *testing.T) {
	crd := loadOurs(t, "vteam.ambient-code_agenticsessions.yaml")
	schema, err := Flatten(crd.Spec.Versions[0].Schema.OpenAPIV3Schema)
	require.NoError(t, err)

	c := Coverage{}
	c.Add(schema, map[string]any{
		"apiVersion": "vteam.ambient-code/v1alpha1",
		"metadata":   map[string]any{"name": "x"},
		"spec": map[string]any{
			"repos":                []any{map[string]any{"url": "u"}},
			"environmentVariables": map[string]any{"A": "1"},
			"mcpServers":           map[string]any{"custom": map[string]any{"s": map[string]any{"deep": map[string]any{"x": 1}}}},
			"unknown":              true,
		},
		"status": map[string]any{"phase": "Running"},
	})
	for _, path := range []string{"spec", "spec.repos", "spec.repos[]", "spec.repos[].url",
		"spec.environmentVariables", "spec.environmentVariables{}", "spec.mcpServers.custom{}"} {
		assert.True(t, c[path], path)
	}
	assert.True(t, c[`status.phase="Running"`])
	assert.Len(t, c, 12, "spec.mcpServers, spec.mcpServers.custom and status complete the set: %v", c)
	missing := c.Missing(schema)
	assert.Contains(t, missing, "spec.repos[].branch")
	assert.Contains(t, missing, "status.conditions")
	assert.Contains(t, missing, `status.phase="Stopping"`)
	assert.NotContains(t, missing, `status.phase="Running"`)
	assert.NotContains(t, missing, "status.phase")
	assert.NotContains(t, missing, rootPath)
}
