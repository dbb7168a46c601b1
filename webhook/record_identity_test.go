//go:build record

package webhook_test

import "fmt"

// The identities of the recorded requests. The recorder's own user, admin
// (system:masters), stands for the operator as the fixture tests configure it,
// so that the cases recorded before identities mattered keep their meaning; the
// operator's ServiceAccount and an ordinary project member are impersonated.
const (
	operatorSA       = "system:serviceaccount:ambient-code-system:ambient-code-operator"
	garbageCollector = "system:serviceaccount:kube-system:generic-garbage-collector"
	member           = "alice"
)

// runnerCreators is what the recorder's handlers are configured with, as
// fixture_test.go configures them.
var runnerCreators = []string{"admin", operatorSA}

// recordIdentitySteps records the runner identity rules: who may create a runner
// pod, and that nobody but the garbage collector re-parents one. The member has
// what a project's edit role gives on pods and sessions; the operator's
// ServiceAccount what its ClusterRole gives.
func recordIdentitySteps(k *kubectl) {
	k.run("", false, ok, memberRBAC(), "apply", "-f", "-")
	k.run("", false, ok, "", "create", "clusterrolebinding", "recorder-operator", "--clusterrole=cluster-admin",
		"--serviceaccount=ambient-code-system:ambient-code-operator")
	as := func(user string) string { return "--as=" + user }

	k.run("", false, ok, session("victim", nil), "create", "-f", "-")
	victim := controller("vteam.ambient-code/v1alpha1", "AgenticSession", "victim", k.uid("agenticsessions", "victim"))
	forged := pod("victim-runner", nil, victim, 1)
	// The mutator refuses it, so the validator is reached only when a mutator
	// lets it through: recorded permissively as a dry run, nothing is stored.
	k.run("identity-member-creates-runner-pod", false, denied, forged, "create", "-f", "-", as(member))
	k.run("identity-member-creates-runner-pod-past-mutator", true, ok, forged, "create", "-f", "-", "--dry-run=server", as(member))
	k.run("identity-operator-creates-runner-pod", false, ok, forged, "create", "-f", "-", as(operatorSA))

	s1 := k.uid("agenticsessions", "s1")
	reparent := fmt.Sprintf(`[{"op":"replace","path":"/metadata/ownerReferences/0/name","value":"s1"},`+
		`{"op":"replace","path":"/metadata/ownerReferences/0/uid","value":%q}]`, s1)
	k.run("update-controller-reference-changed", false, denied, "", "patch", "pod", "victim-runner", "-n", ns,
		"--type=json", "-p", reparent, as(member))
	k.run("update-controller-reference-removed-by-member", false, denied, "", "patch", "pod", "victim-runner", "-n", ns,
		"--type=json", "-p", `[{"op":"remove","path":"/metadata/ownerReferences"}]`, as(member))
	adopt := fmt.Sprintf(`[{"op":"add","path":"/metadata/ownerReferences","value":[%s]}]`, mustJSON(victim))
	k.run("update-controller-reference-added", false, denied, "", "patch", "pod", "web", "-n", ns,
		"--type=json", "-p", adopt, as(member))
	// A runner pod admitted before the webhook may gain a missing label only with its value.
	k.run("", true, ok, pod("s1-legacy-b", map[string]string{"app": "ambient-code-runner"},
		controller("vteam.ambient-code/v1alpha1", "AgenticSession", "s1", s1), 1), "create", "-f", "-")
	k.run("update-runner-missing-label-wrong-value", false, denied, "", "label", "pod", "s1-legacy-b", "-n", ns,
		"agentic-session=victim", as(member))
}

// recordArchiveWriterSteps records who may add the archived label.
func recordArchiveWriterSteps(k *kubectl) {
	k.run("", false, ok, session("finished", nil), "create", "-f", "-")
	k.run("archive-added-by-member", false, denied, "", "label", "agenticsessions", "finished", "-n", ns,
		"ambient-code.io/archived=true", "--as="+member)
	k.run("archive-added-by-operator", false, ok, "", "label", "agenticsessions", "finished", "-n", ns,
		"ambient-code.io/archived=true", "--as="+operatorSA)
}

// memberRBAC gives the member explicit rights on pods and sessions in the
// namespace (the aggregated edit role is empty without a controller-manager).
func memberRBAC() string {
	role := map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
		"metadata": map[string]any{"name": "member", "namespace": ns},
		"rules": []any{
			map[string]any{"apiGroups": []string{""}, "resources": []string{"pods", "pods/status"},
				"verbs": []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
			map[string]any{"apiGroups": []string{"vteam.ambient-code"}, "resources": []string{"agenticsessions", "agenticsessions/status", "projectsettings"},
				"verbs": []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
		},
	}
	binding := map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
		"metadata": map[string]any{"name": "member", "namespace": ns},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "member"},
		"subjects": []any{map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": member}},
	}
	return mustJSON(map[string]any{"apiVersion": "v1", "kind": "List", "items": []any{role, binding}})
}
