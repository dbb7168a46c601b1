package manifests

import (
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
)

// The API server declares object and oldObject as dynamic values for webhook
// matchConditions; so does this environment. An expression that errors fails
// the request on a fail-closed webhook, so every case must evaluate cleanly.
func evalMatchCondition(t *testing.T, expr string, object, oldObject any) bool {
	t.Helper()
	env, err := cel.NewEnv(cel.Variable("object", cel.DynType), cel.Variable("oldObject", cel.DynType))
	require.NoError(t, err)
	ast, iss := env.Compile(expr)
	require.NoError(t, iss.Err())
	prg, err := env.Program(ast)
	require.NoError(t, err)
	out, _, err := prg.Eval(map[string]any{"object": object, "oldObject": oldObject})
	require.NoError(t, err, "evaluation errors reject requests on a fail-closed webhook")
	b, ok := out.Value().(bool)
	require.True(t, ok, "matchCondition must be a bool, got %T", out.Value())
	return b
}

func pod(labels map[string]any, owners ...map[string]any) map[string]any {
	meta := map[string]any{"name": "p"}
	if labels != nil {
		meta["labels"] = labels
	}
	if owners != nil {
		refs := []any{}
		for _, o := range owners {
			refs = append(refs, o)
		}
		meta["ownerReferences"] = refs
	}
	return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta}
}

func owner(apiVersion, kind string, controller any) map[string]any {
	o := map[string]any{"apiVersion": apiVersion, "kind": kind, "name": "s", "uid": "u"}
	if controller != nil {
		o["controller"] = controller
	}
	return o
}

func TestShippedPodMatchConditionsSelectRunnerPodsAndClaims(t *testing.T) {
	objs := buildConfig(t, "default")
	mutating := only[admissionv1.MutatingWebhookConfiguration](t, objs, KindMutatingWebhookConfiguration, namePrefix+"mutating-webhook-configuration")
	validating := only[admissionv1.ValidatingWebhookConfiguration](t, objs, KindValidatingWebhookConfiguration, namePrefix+"validating-webhook-configuration")
	var podExprs []string
	for _, h := range mutating.Webhooks {
		if h.Rules[0].Resources[0] == "pods" {
			require.Len(t, h.MatchConditions, 1)
			podExprs = append(podExprs, h.MatchConditions[0].Expression)
		}
	}
	for _, h := range validating.Webhooks {
		require.Len(t, h.MatchConditions, 1)
		podExprs = append(podExprs, h.MatchConditions[0].Expression)
	}
	require.Len(t, podExprs, 2)

	runner := pod(nil, owner("vteam.ambient-code/v1alpha1", "AgenticSession", true))
	labelled := pod(map[string]any{"ambient-code.io/runner": "true", "agentic-session": "s", "app": "ambient-code-runner"},
		owner("vteam.ambient-code/v1alpha1", "AgenticSession", true))
	cases := []struct {
		name              string
		object, oldObject any
		want              bool
	}{
		{"create of a runner pod", runner, nil, true},
		{"create of a pod claiming a session by label", pod(map[string]any{"agentic-session": "s"}), nil, true},
		{"create of a pod claiming to be a runner", pod(map[string]any{"ambient-code.io/runner": "true"}), nil, true},
		{"create of a plain pod", pod(map[string]any{"app": "web"}), nil, false},
		{"create of a pod without labels or owners", pod(nil), nil, false},
		{"app label alone claims nothing", pod(map[string]any{"app": "ambient-code-runner"}), nil, false},
		{"owner that is not the controller", pod(nil, owner("vteam.ambient-code/v1alpha1", "AgenticSession", false)), nil, false},
		{"owner without a controller field", pod(nil, owner("vteam.ambient-code/v1alpha1", "AgenticSession", nil)), nil, false},
		{"controller of another group", pod(nil, owner("example.com/v1", "AgenticSession", true)), nil, false},
		{"controller of another kind", pod(nil, owner("apps/v1", "ReplicaSet", true), owner("vteam.ambient-code/v1", "AgenticSession", false)), nil, false},
		{"update removing the labels and owner of a runner pod", pod(nil), labelled, true},
		{"update of a plain pod", pod(map[string]any{"app": "web", "tier": "x"}), pod(map[string]any{"app": "web"}), false},
		{"delete of a runner pod (object is null)", nil, labelled, true},
		{"delete of a plain pod", nil, pod(nil), false},
	}
	for _, expr := range podExprs {
		for _, c := range cases {
			assert.Equal(t, c.want, evalMatchCondition(t, expr, c.object, c.oldObject), c.name)
		}
	}
}

func TestShippedSessionMatchConditionNeedsConditions(t *testing.T) {
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
	session := func(status any) map[string]any {
		s := map[string]any{"apiVersion": "vteam.ambient-code/v1alpha1", "kind": "AgenticSession", "metadata": map[string]any{"name": "s"}}
		if status != nil {
			s["status"] = status
		}
		return s
	}
	assert.True(t, evalMatchCondition(t, expr, session(map[string]any{"conditions": []any{}}), nil))
	assert.True(t, evalMatchCondition(t, expr, session(map[string]any{"conditions": []any{map[string]any{"type": "Ready"}}}), session(nil)))
	assert.False(t, evalMatchCondition(t, expr, session(nil), nil), "spec-only writes need no call")
	assert.False(t, evalMatchCondition(t, expr, session(map[string]any{"phase": "Running"}), nil))
	assert.False(t, evalMatchCondition(t, expr, nil, session(map[string]any{"conditions": []any{}})), "null object")
}
