//go:build record

package webhook_test

import (
	"encoding/json"
	"fmt"
	"strings"
)

const ns = "team-a"

// recordSteps drives the API server through every fixture case. Step names become
// file names; a step hits one or both pod endpoints, or the session endpoint.
func recordSteps(k *kubectl) {
	k.run("", false, ok, "", "create", "namespace", ns)
	k.run("", false, ok, "", "label", "namespace", ns, "ambient-code.io/managed=true")
	// No controller-manager in envtest: the ServiceAccount admission plugin needs it.
	k.run("", false, ok, "", "create", "serviceaccount", "default", "-n", ns)

	create := func(step string, want outcome, manifest string, extra ...string) {
		k.run(step, false, want, manifest, append([]string{"create", "-f", "-"}, extra...)...)
	}
	seed := func(manifest string) { k.run("", true, ok, manifest, "create", "-f", "-") }

	// Sessions: main-resource CREATE.
	create("create-main-resource-no-status", ok, session("s1", nil))
	s1 := k.uid("agenticsessions", "s1")
	create("create-main-resource-duplicates", ok, session("s2", conds(
		cond("Ready", "False", "Creating", "", at(0)),
		cond("PodCreated", "True", "PodCreated", "runner pod created", at(1)),
		cond("ready", "True", "Running", "runner is up", at(2)),
	)))

	// Runner pods: mutating CREATE, then the validating call sees the result. Each
	// has a session of its own, since a runner pod must be named <session>-runner.
	owner := controller("vteam.ambient-code/v1alpha1", "AgenticSession", "s1", s1)
	runner := func(name string) (string, map[string]any) {
		k.run("", false, ok, session(name, nil), "create", "-f", "-")
		return name + "-runner", controller("vteam.ambient-code/v1alpha1", "AgenticSession", name, k.uid("agenticsessions", name))
	}
	create("runner-pod-missing-labels", ok, pod("s1-runner", nil, owner, 1))
	relabelled, relabelledOwner := runner("s4")
	create("runner-pod-wrong-session-label", ok, pod(relabelled, runnerLabels("s0"), relabelledOwner, 1))
	labelled, labelledOwner := runner("s5")
	create("runner-pod-labelled", ok, pod(labelled, runnerLabels("s5"), labelledOwner, 1))
	name, o := runner("s6")
	create("runner-pod-platform-labels", ok, pod(name,
		map[string]string{"app": "ambient-code-runner", "agentic-session": "s6"}, o, 1))
	name, o = runner("s7")
	create("runner-pod-five-containers", ok, pod(name,
		map[string]string{"app": "ambient-code-runner", "agentic-session": "s7"}, o, 5))
	name, o = runner("s8")
	create("runner-pod-wrong-runner-value", ok, pod(name,
		map[string]string{"ambient-code.io/runner": "false", "agentic-session": "s8", "app": "ambient-code-runner"}, o, 1))
	// The name is generated after the mutator runs, so it cannot be <session>-runner.
	create("runner-pod-generate-name", denied, podGenerated("s1-runner-", map[string]string{"team": "platform"}, owner))
	create("runner-pod-misnamed", denied, pod("s1-worker", nil, owner, 1))
	// What the validator makes of it when a mutator lets it through (a dry run).
	k.run("runner-pod-misnamed-past-mutator", true, ok, pod("s1-worker", nil, owner, 1), "create", "-f", "-", "--dry-run=server")
	name, o = runner("s9")
	create("runner-pod-dry-run", ok, pod(name, nil, o, 1), "--dry-run=server")
	name, o = runner("s10")
	uid := o["uid"].(string)
	create("runner-pod-owner-other-version", ok, pod(name, nil,
		controller("vteam.ambient-code/v1beta1", "AgenticSession", "s10", uid), 1))

	// Pods that are not runner pods.
	create("pod-non-runner", ok, pod("web", map[string]string{"app": "web"}, nil, 1))
	notController := controller("vteam.ambient-code/v1alpha1", "AgenticSession", "s1", s1)
	notController["controller"] = false
	create("pod-session-owner-not-controller", ok, pod("helper", nil, notController, 1))
	create("pod-app-label-only", ok, pod("lookalike", map[string]string{"app": "ambient-code-runner"}, nil, 1))
	create("pod-spoofed-runner-label", denied, pod("impostor", map[string]string{"ambient-code.io/runner": "true"}, nil, 1))
	create("pod-spoofed-labels-replicaset-owner", denied, pod("impostor-rs", runnerLabels("s1"),
		controller("apps/v1", "ReplicaSet", "web-5d4f8", "3f1c2b7a-9a61-4c55-8d0e-2a4c7f1e9b10"), 1))
	create("pod-spoofed-session-owner-other-group", denied, pod("impostor-group", map[string]string{"agentic-session": "s1"},
		controller("example.com/v1", "AgenticSession", "s1", "9b0e4f7c-1d2a-4e8b-a3c5-6f7d8e9a0b1c"), 1))
	k.run("deployment-sent-to-pod-endpoint", false, ok, "", "create", "deployment", "web", "-n", ns,
		"--image=registry.k8s.io/nginx-slim:0.27", "--replicas=1")

	// UPDATEs of runner pods: the mutator skips them, the validator guards labels.
	label := func(step string, want outcome, podName string, args ...string) {
		k.run(step, false, want, "", append([]string{"label", "pod", podName, "-n", ns}, args...)...)
	}
	label("update-runner-label-changed", denied, "s1-runner", "agentic-session=s2", "--overwrite")
	label("update-runner-label-removed", denied, "s1-runner", "ambient-code.io/runner-")
	label("update-app-label-changed", denied, "s1-runner", "app=something-else", "--overwrite")
	label("update-dry-run-label-changed", denied, "s1-runner", "agentic-session=s9", "--overwrite", "--dry-run=server")
	label("update-unrelated-label-added", ok, "s1-runner", "team=platform")
	label("update-claim-added-to-non-runner", denied, "web", "agentic-session=s1")
	k.run("update-pod-status-subresource", false, ok, "", "patch", "pod", "s1-runner", "-n", ns, "--subresource=status",
		"--type=merge", "-p", `{"status":{"conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable","message":"0/0 nodes are available"}]}}`)
	// A status write takes labels as sent: the validator must see it too.
	k.run("update-status-subresource-label-removed", false, denied, "", "patch", "pod", "s1-runner", "-n", ns, "--subresource=status",
		"--type=merge", "-p", `{"metadata":{"labels":{"ambient-code.io/runner":null}}}`)
	// A runner pod admitted before the webhook may gain its missing labels.
	seed(pod("s1-legacy", map[string]string{"app": "ambient-code-runner"}, owner, 1))
	label("update-runner-missing-label-added", ok, "s1-legacy", "ambient-code.io/runner=true", "agentic-session=s1")
	// A spoofed pod admitted before the webhook is not blocked from other updates.
	seed(pod("impostor-old", map[string]string{"ambient-code.io/runner": "true"}, nil, 1))
	k.run("update-preexisting-claim-unchanged", false, ok, "", "annotate", "pod", "impostor-old", "-n", ns, "note=kept")
	// Only the garbage collector may orphan a runner pod; the labels stay.
	orphan := []string{"patch", "pod", relabelled, "-n", ns, "--type=json", "-p", `[{"op":"remove","path":"/metadata/ownerReferences"}]`}
	k.run("update-controller-reference-removed", false, denied, "", orphan...)
	k.run("update-controller-reference-removed-by-gc", false, ok, "", append(orphan, "--as="+garbageCollector)...)
	recordIdentitySteps(k)
	k.run("connect-exec", false, either, "", "exec", labelled, "-n", ns, "--", "true")
	k.run("delete", false, ok, "", "delete", "pod", labelled, "-n", ns, "--wait=false")

	// Session status writes, as the operator and runners make them.
	status := func(step string, want outcome, name string, st map[string]any, extra ...string) {
		body, _ := json.Marshal(map[string]any{"status": st})
		k.run(step, false, want, "", append([]string{"patch", "agenticsessions", name, "-n", ns,
			"--subresource=status", "--type=merge", "-p", string(body)}, extra...)...)
	}
	status("status-update-no-conditions", ok, "s1", map[string]any{"phase": "Creating"})
	status("status-update-canonical", ok, "s1", conds(
		cond("PodCreated", "True", "PodCreated", "runner pod created", at(1)),
		cond("Ready", "False", "Creating", "waiting for the runner", at(2)),
		cond("SecretsReady", "True", "Found", "", at(0)),
	))
	status("status-update-exact-duplicates", ok, "s1", conds(
		cond("Ready", "False", "Creating", "waiting for the runner", at(2)),
		cond("PodCreated", "True", "PodCreated", "runner pod created", at(1)),
		cond("Ready", "False", "Creating", "waiting for the runner", at(2)),
		cond("PodCreated", "True", "PodCreated", "runner pod created", at(1)),
	))
	status("status-update-case-duplicates", ok, "s1", conds(
		cond("Ready", "False", "Creating", "waiting for the runner", at(2)),
		cond("runnerStarted", "True", "Started", "", at(3)),
		cond("ready", "True", "Running", "runner is up", at(4)),
		cond("READY", "False", "Creating", "stale copy", at(1)),
		cond("RunnerStarted", "False", "Pending", "", at(1)),
	))
	status("status-update-equal-timestamps", ok, "s1", conds(
		cond("Ready", "False", "Creating", "first of a tie", at(5)),
		cond("Ready", "True", "Running", "later entry wins the tie", at(5)),
	))
	status("status-update-missing-timestamps", ok, "s1", conds(
		cond("Ready", "True", "Running", "has a time", at(5)),
		cond("ReposReconciled", "True", "Cloned", "no time given", ""),
		cond("ready", "False", "Stopping", "no time: counts as now", ""),
	))
	status("status-update-100kb-message", ok, "s1", conds(
		cond("Ready", "True", "Running", "", at(5)),
		cond("WorkflowReconciled", "False", "CloneFailed", "git clone failed: "+strings.Repeat("€", 100*1024/3), at(6)),
	))
	status("status-update-64-types", ok, "s1", manyTypes(64))
	status("status-update-65-types", denied, "s1", manyTypes(65))
	status("status-update-dry-run", ok, "s1", conds(
		cond("Ready", "False", "Stopping", "", at(7)),
		cond("Ready", "True", "Running", "", at(6)),
	), "--dry-run=server")
	status("status-update-conditions-not-a-list", either, "s1", map[string]any{"conditions": "Ready"})
	status("status-update-unparseable-time", either, "s1", conds(
		cond("Ready", "True", "Running", "", "yesterday"),
		cond("Ready", "False", "Stopping", "", at(7)),
	))
	status("status-update-ten-conditions", ok, "s1", tenConditions())
	status("status-update-200-duplicates", ok, "s1", duplicated(200))
	// A full PUT of the status subresource, as a typed client's Status().Update sends it.
	obj := k.run("", false, ok, "", "get", "agenticsessions", "s1", "-n", ns, "-o", "json")
	k.run("status-replace-put", false, ok, withConditions(obj, conds(
		cond("Ready", "True", "Running", "", at(8)),
		cond("PodCreated", "True", "PodCreated", "", at(1)),
		cond("Ready", "False", "Stopping", "", at(3)),
	)), "replace", "--subresource=status", "-f", "-")
	k.run("status-server-side-apply", false, ok, applyStatus("s1", conds(
		cond("Reconciled", "True", "Done", "", at(9)),
		cond("reconciled", "False", "Pending", "", at(8)),
	)), "apply", "--server-side", "--force-conflicts", "--field-manager=runner", "--subresource=status", "-f", "-")

	// A session stored with duplicates before the webhook: its main-resource writes
	// carry them, and the webhook patches them (the API server then keeps old status).
	seed(session("s3", conds(cond("Ready", "False", "Creating", "", at(0)), cond("Ready", "True", "Running", "", at(1)))))
	k.run("", true, ok, "", "patch", "agenticsessions", "s3", "-n", ns, "--subresource=status", "--type=merge",
		"-p", mustJSON(map[string]any{"status": conds(cond("Ready", "False", "Creating", "", at(0)), cond("Ready", "True", "Running", "", at(1)))}))
	k.run("main-resource-update-stored-duplicates", false, ok, "", "label", "agenticsessions", "s3", "-n", ns, "team=platform")
	k.run("main-resource-update-spec", false, ok, "", "patch", "agenticsessions", "s1", "-n", ns,
		"--type=merge", "-p", `{"spec":{"displayName":"Fix the flaky test (renamed)"}}`)
	recordArchiveWriterSteps(k)
	k.run("delete", false, ok, "", "delete", "agenticsessions", "s2", "-n", ns, "--wait=false")
}

// at is a fixed past time, minutes after a base, in the API server's format.
func at(minute int) string { return fmt.Sprintf("2026-01-10T08:%02d:00Z", minute) }

func cond(typ, status, reason, message, ltt string) map[string]any {
	c := map[string]any{"type": typ, "status": status, "reason": reason}
	if message != "" {
		c["message"] = message
	}
	if ltt != "" {
		c["lastTransitionTime"] = ltt
	}
	c["observedGeneration"] = 1
	return c
}

func conds(cs ...map[string]any) map[string]any {
	list := make([]any, len(cs))
	for i, c := range cs {
		list[i] = c
	}
	return map[string]any{"phase": "Running", "conditions": list}
}

func manyTypes(n int) map[string]any {
	cs := make([]map[string]any, n)
	for i := range cs {
		cs[i] = cond(fmt.Sprintf("Check%02d", i), "True", "Passed", "", at(i%60))
	}
	return conds(cs...)
}

var platformTypes = []string{"Ready", "SecretsReady", "PodCreated", "PodScheduled", "RunnerStarted",
	"ReposReconciled", "WorkflowReconciled", "Reconciled", "InactivityChecked", "TokenRefreshed"}

func tenConditions() map[string]any {
	cs := make([]map[string]any, len(platformTypes))
	for i, typ := range platformTypes {
		cs[i] = cond(typ, "True", "Ok", fmt.Sprintf("%s is fine", typ), at(i))
	}
	return conds(cs...)
}

// duplicated is what a writer that appends instead of upserting leaves behind.
func duplicated(n int) map[string]any {
	cs := make([]map[string]any, n)
	for i := range cs {
		typ := platformTypes[i%len(platformTypes)]
		status := []string{"True", "False"}[i/len(platformTypes)%2]
		cs[i] = cond(typ, status, "Reconciling", fmt.Sprintf("pass %d of the reconcile loop", i/len(platformTypes)), at(i/len(platformTypes)))
	}
	return conds(cs...)
}

func session(name string, status map[string]any) string {
	obj := map[string]any{
		"apiVersion": "vteam.ambient-code/v1alpha1",
		"kind":       "AgenticSession",
		"metadata":   map[string]any{"name": name, "namespace": ns, "labels": map[string]string{"ambient-code.io/project": ns}},
		"spec": map[string]any{
			"displayName":          "Fix the flaky test",
			"initialPrompt":        "Find why TestReconcile flakes and fix it.",
			"repos":                []any{map[string]any{"url": "https://github.com/ambient-code/platform.git", "branch": "main"}},
			"llmSettings":          map[string]any{"model": "claude-sonnet-4-6", "temperature": 0.7, "maxTokens": 4000},
			"timeout":              300,
			"userContext":          map[string]any{"userId": "alice", "displayName": "Alice", "groups": []string{"team-a"}},
			"environmentVariables": map[string]string{"LOG_LEVEL": "debug"},
		},
	}
	if status != nil {
		obj["status"] = status
	}
	return mustJSON(obj)
}

func applyStatus(name string, status map[string]any) string {
	return mustJSON(map[string]any{
		"apiVersion": "vteam.ambient-code/v1alpha1", "kind": "AgenticSession",
		"metadata": map[string]any{"name": name, "namespace": ns}, "status": status,
	})
}

func withConditions(obj string, status map[string]any) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(obj), &m); err != nil {
		panic(err)
	}
	st, _ := m["status"].(map[string]any)
	if st == nil {
		st = map[string]any{}
	}
	st["conditions"] = status["conditions"]
	m["status"] = st
	return mustJSON(m)
}

func controller(apiVersion, kind, name, uid string) map[string]any {
	return map[string]any{"apiVersion": apiVersion, "kind": kind, "name": name, "uid": uid,
		"controller": true, "blockOwnerDeletion": true}
}

func runnerLabels(session string) map[string]string {
	return map[string]string{"ambient-code.io/runner": "true", "agentic-session": session, "app": "ambient-code-runner"}
}

func pod(name string, labels map[string]string, owner map[string]any, containers int) string {
	return mustJSON(podObject(map[string]any{"name": name}, labels, owner, containers))
}

func podGenerated(prefix string, labels map[string]string, owner map[string]any) string {
	return mustJSON(podObject(map[string]any{"generateName": prefix}, labels, owner, 1))
}

// podObject is a runner pod as the platform's operator builds it.
func podObject(meta map[string]any, labels map[string]string, owner map[string]any, containers int) map[string]any {
	meta["namespace"] = ns
	if labels != nil {
		meta["labels"] = labels
	}
	if owner != nil {
		meta["ownerReferences"] = []any{owner}
	}
	meta["annotations"] = map[string]string{"ambient-code.io/created-by": "agentic-operator"}
	session := "s1"
	env := []any{}
	for _, kv := range [][2]string{
		{"SESSION_ID", session}, {"AGENTIC_SESSION_NAME", session}, {"AGENTIC_SESSION_NAMESPACE", ns},
		{"PROJECT_NAME", ns}, {"INITIAL_PROMPT", "Find why TestReconcile flakes and fix it."},
		{"LLM_MODEL", "claude-sonnet-4-6"}, {"LLM_TEMPERATURE", "0.7"}, {"LLM_MAX_TOKENS", "4000"},
		{"TIMEOUT", "300"}, {"AGUI_PORT", "8001"},
		{"REPOS_JSON", `[{"url":"https://github.com/ambient-code/platform.git","branch":"main"}]`},
	} {
		env = append(env, map[string]any{"name": kv[0], "value": kv[1]})
	}
	security := map[string]any{
		"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": false,
		"capabilities": map[string]any{"drop": []string{"ALL"}},
	}
	mounts := []any{map[string]any{"name": "workspace", "mountPath": "/workspace"}}
	cs := []any{map[string]any{
		"name": "ambient-code-runner", "image": "quay.io/ambient_code/vteam_claude_runner:v0.0.19",
		"imagePullPolicy": "IfNotPresent", "env": env, "volumeMounts": mounts, "securityContext": security,
		"ports": []any{map[string]any{"name": "agui", "containerPort": 8001, "protocol": "TCP"}},
		"resources": map[string]any{
			"requests": map[string]string{"cpu": "500m", "memory": "1Gi"},
			"limits":   map[string]string{"cpu": "2", "memory": "4Gi"},
		},
		"envFrom": []any{map[string]any{"secretRef": map[string]any{"name": "ambient-runner-secrets", "optional": true}}},
	}}
	sidecars := []string{"content", "git-sync", "mcp-proxy", "log-forwarder"}
	for i := 1; i < containers; i++ {
		name := sidecars[(i-1)%len(sidecars)]
		cs = append(cs, map[string]any{
			"name": name, "image": "quay.io/ambient_code/vteam_" + strings.ReplaceAll(name, "-", "_") + ":v0.0.19",
			"args": []string{"--workspace=/workspace", "--session=" + session, fmt.Sprintf("--port=%d", 8080+i)},
			"env": []any{
				map[string]any{"name": "SESSION_ID", "value": session},
				map[string]any{"name": "POD_NAME", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "metadata.name"}}},
			},
			"ports":           []any{map[string]any{"name": fmt.Sprintf("http-%d", i), "containerPort": 8080 + i}},
			"volumeMounts":    mounts,
			"securityContext": security,
			"resources": map[string]any{
				"requests": map[string]string{"cpu": "50m", "memory": "64Mi"},
				"limits":   map[string]string{"cpu": "200m", "memory": "256Mi"},
			},
			"readinessProbe": map[string]any{"httpGet": map[string]any{"path": "/healthz", "port": 8080 + i}, "periodSeconds": 10},
		})
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod", "metadata": meta,
		"spec": map[string]any{
			"restartPolicy": "Never", "containers": cs,
			"volumes":         []any{map[string]any{"name": "workspace", "emptyDir": map[string]any{"sizeLimit": "10Gi"}}},
			"securityContext": map[string]any{"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
		},
	}
}

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}
