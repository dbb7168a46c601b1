package manifests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
)

// The archive rule (webhook/session_archive.go) must be reached by writes to
// archived sessions even when they carry no conditions (history written by the
// platform's operator, sessions created from an export), or a restart request
// would wait for the operator's sweep.
func TestShippedSessionMatchConditionReachesArchivedSessions(t *testing.T) {
	objs := buildConfig(t, "default")
	mutating := only[admissionv1.MutatingWebhookConfiguration](t, objs, KindMutatingWebhookConfiguration, namePrefix+"mutating-webhook-configuration")
	var expr string
	for _, h := range mutating.Webhooks {
		if h.Rules[0].Resources[0] == "agenticsessions" {
			require.Len(t, h.MatchConditions, 1)
			expr = h.MatchConditions[0].Expression
		}
	}
	require.NotEmpty(t, expr)
	session := func(labels, annotations map[string]any) map[string]any {
		meta := map[string]any{"name": "s"}
		if labels != nil {
			meta["labels"] = labels
		}
		if annotations != nil {
			meta["annotations"] = annotations
		}
		return map[string]any{"apiVersion": "vteam.ambient-code/v1alpha1", "kind": "AgenticSession", "metadata": meta,
			"status": map[string]any{"phase": "Stopped"}}
	}
	archived := map[string]any{"ambient-code.io/archived": "true"}
	restart := map[string]any{"ambient-code.io/desired-phase": "Running"}

	assert.True(t, evalMatchCondition(t, expr, session(archived, restart), session(archived, nil)), "restart request on an archived session")
	assert.True(t, evalMatchCondition(t, expr, session(archived, nil), nil), "create of an archived session")
	assert.True(t, evalMatchCondition(t, expr, session(map[string]any{"ambient-code.io/archived": ""}, restart), nil), "any value of the label")
	assert.False(t, evalMatchCondition(t, expr, session(map[string]any{"team": "a"}, restart), session(nil, nil)), "not archived, no conditions")
	assert.False(t, evalMatchCondition(t, expr, session(nil, restart), nil), "no labels at all")
	assert.False(t, evalMatchCondition(t, expr, nil, session(archived, nil)), "null object")
}
