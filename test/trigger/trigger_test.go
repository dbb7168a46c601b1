// Package trigger_test runs `operator session-trigger` (operator/trigger) on a
// real kube-apiserver with this repository's CRDs, as a scheduled-session
// CronJob's pod would: the backend's environment, and the ServiceAccount
// ambient-session-trigger with exactly the platform's trigger Role
// (impersonated). A local server stands in for the backend's /agui/run.
package trigger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/trigger"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// triggerSA is the ServiceAccount the backend's CronJobs run as.
const triggerSA = "ambient-session-trigger"

// triggerRule is the platform's trigger Role, exactly (runner contract §6.3):
// no patch, no status, no watch.
var triggerRule = rbacv1.PolicyRule{
	APIGroups: []string{v1alpha1.GroupVersion.Group},
	Resources: []string{"agenticsessions"},
	Verbs:     []string{"create", "get", "list", "update"},
}

// clock is the trigger's time in the tests that fix it.
var clock = time.Date(2026, time.January, 2, 3, 4, 5, 6, time.UTC)

// template is a schedule's SESSION_TEMPLATE as the backend writes it: its
// create-request shape, with fields the CRD does not have.
const template = `{
	"initialPrompt": "Summarise the open issues",
	"displayName": "Daily Jira Summary",
	"runnerType": "gemini-cli",
	"llmSettings": {"model": "claude-opus-4", "temperature": 0.2, "maxTokens": 8000},
	"timeout": 600,
	"inactivityTimeout": 0,
	"stopOnRunFinished": true,
	"parent_session_id": "older-session",
	"repos": [{"url": "https://github.com/org/repo", "autoPush": true}],
	"activeWorkflow": {"gitUrl": "https://github.com/org/wf", "path": "flows/daily"},
	"userContext": {"userId": "alice", "displayName": "Alice", "groups": ["devs"]},
	"environmentVariables": {"RUNNER_TYPE": "claude-agent-sdk"},
	"labels": {"team": "a"},
	"annotations": {"note": "x"},
	"mcpServers": {"custom": {"jira": {"command": "jira-mcp", "args": ["--ro"], "env": {"X": "1"}}}, "disabled": ["github"]},
	"sdkOptions": {"permission_mode": "acceptEdits"}
}`

type suite struct {
	env *testenv.Env
}

func TestTrigger(t *testing.T) {
	s := &suite{env: testenv.Start(t, testenv.Options{})}
	t.Run("NewSession", s.testNewSession)
	t.Run("NewSessionWithoutDisplayName", s.testNewSessionWithoutDisplayName)
	t.Run("ReuseStopped", s.testReuseStopped)
	t.Run("ReuseCompletedWithoutPrompt", s.testReuseCompletedWithoutPrompt)
	t.Run("ReuseRunning", s.testReuseRunning)
	t.Run("ReuseOtherPhases", s.testReuseOtherPhases)
	t.Run("ReuseNewest", s.testReuseNewest)
	t.Run("Failures", s.testFailures)
}

// namespace creates ns with the trigger's ServiceAccount, Role and RoleBinding,
// as the operator's ProjectSettings handling sets them up.
func (s *suite) namespace(t *testing.T, ns string) {
	t.Helper()
	s.env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: "true"})
	s.bareNamespaceRBAC(t, ns, true)
}

func (s *suite) bareNamespaceRBAC(t *testing.T, ns string, bind bool) {
	t.Helper()
	ctx := context.Background()
	meta := metav1.ObjectMeta{Name: triggerSA, Namespace: ns}
	require.NoError(t, s.env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: meta}))
	require.NoError(t, s.env.Client.Create(ctx, &rbacv1.Role{ObjectMeta: meta, Rules: []rbacv1.PolicyRule{triggerRule}}))
	if !bind {
		return
	}
	require.NoError(t, s.env.Client.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: meta,
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: triggerSA},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: triggerSA, Namespace: ns}},
	}))
	s.env.WaitAllowed(t, "system:serviceaccount:"+ns+":"+triggerSA,
		[]string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		testenv.Resource(ns, "create", v1alpha1.GroupVersion.Group, "agenticsessions", ""))
}

// saConfig is the trigger pod's identity in ns.
func (s *suite) saConfig(ns string) *rest.Config {
	cfg := rest.CopyConfig(s.env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + ns + ":" + triggerSA,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
	}
	return cfg
}

// cronEnv is the trigger container's environment as the backend's CronJob sets it.
func cronEnv(tmpl, ns, schedule string, reuse bool) map[string]string {
	return map[string]string{
		trigger.EnvSessionTemplate:      tmpl,
		trigger.EnvProjectNamespace:     ns,
		trigger.EnvScheduledSessionName: schedule,
		trigger.EnvReuseLastSession:     strconv.FormatBool(reuse),
	}
}

// execute runs the whole subcommand as the trigger pod of ns.
func (s *suite) execute(t *testing.T, ns string, env map[string]string) (code int, stdout string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = trigger.Execute(context.Background(), func() (*rest.Config, error) { return s.saConfig(ns), nil },
		func(k string) string { return env[k] }, &out, &errOut)
	t.Logf("session-trigger exited %d; stdout %q; log:\n%s", code, out.String(), errOut.String())
	return code, out.String()
}

// run runs the trigger as the pod of ns with a fixed clock, a backend URL and a
// token file.
func (s *suite) run(t *testing.T, ns string, env map[string]string, edit func(*trigger.Options)) (trigger.Result, error) {
	t.Helper()
	cfg, err := trigger.ConfigFromEnv(func(k string) string { return env[k] })
	require.NoError(t, err)
	c, err := trigger.NewClient(s.saConfig(ns))
	require.NoError(t, err)
	opts := trigger.Options{
		Config: cfg, Client: c, Now: func() time.Time { return clock },
		BackendURL: "http://127.0.0.1:1", // unreachable unless a test sets its own
		TokenFile:  filepath.Join(t.TempDir(), "no-token"),
	}
	if edit != nil {
		edit(&opts)
	}
	return trigger.Run(context.Background(), opts)
}

func (s *suite) sessions(t *testing.T, ns string) map[string]*unstructured.Unstructured {
	t.Helper()
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("AgenticSessionList"))
	require.NoError(t, s.env.Client.List(context.Background(), list, client.InNamespace(ns)))
	m := map[string]*unstructured.Unstructured{}
	for i := range list.Items {
		m[list.Items[i].GetName()] = &list.Items[i]
	}
	return m
}

// seed creates a session of schedule with spec and annotations as raw content,
// so that explicit zero values are stored, and sets its phase.
func (s *suite) seed(t *testing.T, ns, name, schedule string, phase v1alpha1.Phase, spec map[string]any) *unstructured.Unstructured {
	t.Helper()
	ctx := context.Background()
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(),
		"kind":       v1alpha1.KindAgenticSession,
		"metadata": map[string]any{
			"name": name, "namespace": ns,
			"labels":      map[string]any{v1alpha1.LabelScheduledSessionName: schedule, v1alpha1.LabelScheduledRun: "true"},
			"annotations": map[string]any{"ambient-code.io/created-by": "alice"},
		},
		"spec": spec,
	}}
	require.NoError(t, s.env.Client.Create(ctx, obj))
	patch := fmt.Sprintf(`{"status":{"phase":%q}}`, phase)
	require.NoError(t, s.env.Client.Status().Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(patch))))
	return obj
}

// A run without reuse creates <display name>-<unix seconds> with the schedule's
// labels and the template as its spec, exactly what the platform's untyped
// create of the same template leaves after pruning.
func (s *suite) testNewSession(t *testing.T) {
	const ns, schedule = "new-session", "schedule-3f0c"
	s.namespace(t, ns)
	ctx := context.Background()

	res, err := s.run(t, ns, cronEnv(template, ns, schedule, false), nil)
	require.NoError(t, err)
	const name = "daily-jira-summary-1767323045"
	assert.Equal(t, trigger.Result{Action: trigger.ActionCreated, Session: name}, res)

	var typed v1alpha1.AgenticSession
	require.NoError(t, s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &typed))
	assert.Equal(t, map[string]string{v1alpha1.LabelScheduledSessionName: schedule, v1alpha1.LabelScheduledRun: "true"}, typed.Labels)
	assert.Empty(t, typed.Annotations, "the template's annotations go nowhere")
	assert.Equal(t, "Daily Jira Summary (Jan 2, 2026 - 03:04:05)", typed.Spec.DisplayName)
	assert.Equal(t, "Summarise the open issues", typed.Spec.InitialPrompt)
	assert.Equal(t, 600, typed.Spec.Timeout)
	assert.Equal(t, 0, *typed.Spec.InactivityTimeout)
	assert.Equal(t, map[string]string{"RUNNER_TYPE": "claude-agent-sdk"}, typed.Spec.EnvironmentVariables)
	assert.Empty(t, typed.Status.Phase, "no status is written")

	// The platform's way: the raw template (display name replaced) as the spec.
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(template), &raw))
	raw["displayName"] = typed.Spec.DisplayName
	ref := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(), "kind": v1alpha1.KindAgenticSession,
		"metadata": map[string]any{"name": "platform-reference", "namespace": ns},
		"spec":     raw,
	}}
	require.NoError(t, s.env.Client.Create(ctx, ref))
	got := s.sessions(t, ns)
	require.Len(t, got, 2)
	assert.Equal(t, got["platform-reference"].Object["spec"], got[name].Object["spec"],
		"the same stored spec as the platform's pruned create")
	assert.NotContains(t, got[name].Object["spec"], "runnerType")

	// The whole subcommand, on the real clock.
	before := time.Now().Unix()
	code, out := s.execute(t, ns, cronEnv(template, ns, schedule, false))
	after := time.Now().Unix()
	require.Equal(t, 0, code)
	m := regexp.MustCompile(`^Created ` + ns + `/(daily-jira-summary-(\d+))\n$`).FindStringSubmatch(out)
	require.NotNil(t, m, "stdout %q", out)
	sec, _ := strconv.ParseInt(m[2], 10, 64)
	assert.True(t, sec >= before && sec <= after, "name time %d within [%d, %d]", sec, before, after)
	assert.Contains(t, s.sessions(t, ns), m[1])
}

// Without a display name the prefix is the sanitised schedule name and the
// spec has no display name.
func (s *suite) testNewSessionWithoutDisplayName(t *testing.T) {
	const ns = "no-display-name"
	s.namespace(t, ns)
	res, err := s.run(t, ns, cronEnv(`{"initialPrompt":"go"}`, ns, "Schedule_ABC", false), nil)
	require.NoError(t, err)
	assert.Equal(t, "schedule-abc-1767323045", res.Session)
	got := s.sessions(t, ns)[res.Session]
	require.NotNil(t, got)
	assert.Equal(t, "Schedule_ABC", got.GetLabels()[v1alpha1.LabelScheduledSessionName])
	_, has := got.Object["spec"].(map[string]any)["displayName"]
	assert.False(t, has)
}

// A Stopped session is asked to restart with the template's prompt; every
// other stored field survives the update, explicit zero values included.
func (s *suite) testReuseStopped(t *testing.T) {
	const ns, schedule = "reuse-stopped", "schedule-a1"
	s.namespace(t, ns)
	s.seed(t, ns, "daily-1", schedule, v1alpha1.PhaseStopped, map[string]any{
		"initialPrompt": "first prompt",
		"timeout":       int64(0),
		"repos":         []any{map[string]any{"url": "https://github.com/org/repo", "branch": "", "autoPush": false}},
		"llmSettings":   map[string]any{"model": "", "temperature": int64(0), "maxTokens": int64(0)},
	})

	before := time.Now().Add(-time.Second)
	code, out := s.execute(t, ns, cronEnv(`{"initialPrompt":"second prompt","displayName":"Daily"}`, ns, schedule, true))
	require.Equal(t, 0, code)
	assert.Equal(t, "Resumed "+ns+"/daily-1\n", out)

	got := s.sessions(t, ns)
	require.Len(t, got, 1, "no session created")
	obj := got["daily-1"]
	ann := obj.GetAnnotations()
	assert.Equal(t, "Running", ann[v1alpha1.AnnotationDesiredPhase])
	assert.Equal(t, "true", ann[v1alpha1.AnnotationForceExecutePrompt])
	assert.Equal(t, "alice", ann["ambient-code.io/created-by"], "other annotations stay")
	at, err := time.Parse(time.RFC3339, ann[v1alpha1.AnnotationStartRequestedAt])
	require.NoError(t, err)
	assert.WithinRange(t, at, before, time.Now().Add(time.Second))
	assert.Equal(t, map[string]any{
		"initialPrompt": "second prompt",
		"timeout":       int64(0),
		"repos":         []any{map[string]any{"url": "https://github.com/org/repo", "branch": "", "autoPush": false}},
		"llmSettings":   map[string]any{"model": "", "temperature": int64(0), "maxTokens": int64(0)},
	}, obj.Object["spec"], "only the prompt changed; no field dropped or re-defaulted")
	phase, _, _ := unstructured.NestedString(obj.Object, "status", "phase")
	assert.Equal(t, "Stopped", phase, "the operator, not the trigger, moves the phase")
}

// A Completed session restarts without a prompt: its prompt stays and is not
// forced.
func (s *suite) testReuseCompletedWithoutPrompt(t *testing.T) {
	const ns, schedule = "reuse-completed", "schedule-b2"
	s.namespace(t, ns)
	s.seed(t, ns, "done", schedule, v1alpha1.PhaseCompleted, map[string]any{"initialPrompt": "original"})

	res, err := s.run(t, ns, cronEnv(`{"displayName":"Daily"}`, ns, schedule, true), nil)
	require.NoError(t, err)
	assert.Equal(t, trigger.Result{Action: trigger.ActionResumed, Session: "done"}, res)
	got := s.sessions(t, ns)
	require.Len(t, got, 1)
	ann := got["done"].GetAnnotations()
	assert.Equal(t, "Running", ann[v1alpha1.AnnotationDesiredPhase])
	assert.Equal(t, clock.Format(time.RFC3339), ann[v1alpha1.AnnotationStartRequestedAt])
	assert.NotContains(t, ann, v1alpha1.AnnotationForceExecutePrompt)
	prompt, _, _ := unstructured.NestedString(got["done"].Object, "spec", "initialPrompt")
	assert.Equal(t, "original", prompt)
}

// backend records the /agui/run requests and answers status.
type backend struct {
	mu       sync.Mutex
	status   int
	requests []recorded
}

type recorded struct {
	method, path, auth, contentType string
	body                            []byte
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.requests = append(b.requests, recorded{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body})
	w.WriteHeader(b.status)
}

func (b *backend) got() []recorded {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]recorded(nil), b.requests...)
}

// A Running session gets the prompt through the backend with the pod's token;
// nothing in the cluster changes. Without a prompt nothing is sent; a failed
// POST fails the run and creates nothing.
func (s *suite) testReuseRunning(t *testing.T) {
	const ns, schedule = "reuse-running", "schedule-c3"
	s.namespace(t, ns)
	s.seed(t, ns, "live", schedule, v1alpha1.PhaseRunning, map[string]any{"initialPrompt": "original"})
	rv := s.sessions(t, ns)["live"].GetResourceVersion()

	be := &backend{status: http.StatusOK}
	srv := httptest.NewServer(be)
	defer srv.Close()
	token := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(token, []byte("eyJhbGciOi.sa-token"), 0o600))
	withBackend := func(o *trigger.Options) { o.BackendURL, o.TokenFile = srv.URL, token }

	res, err := s.run(t, ns, cronEnv(`{"initialPrompt":"What changed since yesterday?"}`, ns, schedule, true), withBackend)
	require.NoError(t, err)
	assert.Equal(t, trigger.Result{Action: trigger.ActionPromptSent, Session: "live"}, res)
	reqs := be.got()
	require.Len(t, reqs, 1)
	assert.Equal(t, recorded{
		method:      http.MethodPost,
		path:        "/api/projects/" + ns + "/agentic-sessions/live/agui/run",
		auth:        "Bearer eyJhbGciOi.sa-token",
		contentType: "application/json",
		body: []byte(`{"messages":[{"content":"What changed since yesterday?","id":"scheduled-msg-1767323045000000006","role":"user"}],` +
			`"runId":"scheduled-1767323045","threadId":"live"}`),
	}, reqs[0])
	got := s.sessions(t, ns)
	require.Len(t, got, 1, "no session created")
	assert.Equal(t, rv, got["live"].GetResourceVersion(), "the running session is not written")

	res, err = s.run(t, ns, cronEnv(`{"displayName":"x"}`, ns, schedule, true), withBackend)
	require.NoError(t, err)
	assert.Equal(t, trigger.Result{Action: trigger.ActionNone, Session: "live"}, res)
	assert.Len(t, be.got(), 1, "no prompt, no request")

	be.mu.Lock()
	be.status = http.StatusForbidden
	be.mu.Unlock()
	_, err = s.run(t, ns, cronEnv(`{"initialPrompt":"p"}`, ns, schedule, true), withBackend)
	assert.ErrorContains(t, err, "403")
	assert.Len(t, s.sessions(t, ns), 1, "a failed reuse creates nothing")
}

// Pending, Creating, Stopping and Failed sessions are left alone and a new
// session is created.
func (s *suite) testReuseOtherPhases(t *testing.T) {
	const ns = "reuse-other"
	s.namespace(t, ns)
	for _, phase := range []v1alpha1.Phase{v1alpha1.PhasePending, v1alpha1.PhaseCreating, v1alpha1.PhaseStopping, v1alpha1.PhaseFailed} {
		schedule := "schedule-" + strings.ToLower(string(phase))
		s.seed(t, ns, "old-"+strings.ToLower(string(phase)), schedule, phase, map[string]any{})
		res, err := s.run(t, ns, cronEnv(`{"initialPrompt":"p"}`, ns, schedule, true), nil)
		require.NoError(t, err, "phase %s", phase)
		assert.Equal(t, trigger.Result{Action: trigger.ActionCreated, Session: schedule + "-1767323045"}, res, "phase %s", phase)
	}
	got := s.sessions(t, ns)
	assert.Len(t, got, 8)
	for name, obj := range got {
		if strings.HasPrefix(name, "old-") {
			assert.NotContains(t, obj.GetAnnotations(), v1alpha1.AnnotationDesiredPhase, name)
		}
	}
	// No session of the schedule yet: a new one too.
	res, err := s.run(t, ns, cronEnv(`{"initialPrompt":"p"}`, ns, "schedule-fresh", true), nil)
	require.NoError(t, err)
	assert.Equal(t, trigger.ActionCreated, res.Action)
}

// Only the newest session of the schedule counts, whatever older ones are.
func (s *suite) testReuseNewest(t *testing.T) {
	const ns, schedule = "reuse-newest", "schedule-d4"
	s.namespace(t, ns)
	s.seed(t, ns, "z-older", schedule, v1alpha1.PhaseStopped, map[string]any{})
	// creationTimestamp has one-second resolution.
	time.Sleep(1100 * time.Millisecond)
	s.seed(t, ns, "a-newer", schedule, v1alpha1.PhaseFailed, map[string]any{})

	res, err := s.run(t, ns, cronEnv(`{"initialPrompt":"p"}`, ns, schedule, true), nil)
	require.NoError(t, err)
	assert.Equal(t, trigger.ActionCreated, res.Action, "the newest is Failed, so the older Stopped one is not resumed")
	assert.NotContains(t, s.sessions(t, ns)["z-older"].GetAnnotations(), v1alpha1.AnnotationDesiredPhase)
}

// Missing variables, no configuration and any reuse error exit non-zero, and
// no session is created.
func (s *suite) testFailures(t *testing.T) {
	const ns, schedule = "failures", "schedule-e5"
	s.namespace(t, ns)
	full := cronEnv(`{"initialPrompt":"p"}`, ns, schedule, false)
	for _, name := range []string{trigger.EnvSessionTemplate, trigger.EnvProjectNamespace, trigger.EnvScheduledSessionName} {
		env := cronEnv(`{"initialPrompt":"p"}`, ns, schedule, false)
		delete(env, name)
		code, _ := s.execute(t, ns, env)
		assert.Equal(t, 1, code, "without %s", name)
	}
	code, _ := s.execute(t, ns, cronEnv(`{"initialPrompt":`, ns, schedule, false))
	assert.Equal(t, 1, code, "a template that is not JSON")

	var out, errOut bytes.Buffer
	code = trigger.Execute(context.Background(), func() (*rest.Config, error) { return nil, rest.ErrNotInCluster },
		func(k string) string { return full[k] }, &out, &errOut)
	assert.Equal(t, 1, code, "outside a cluster")
	assert.Contains(t, errOut.String(), "unable to load in-cluster configuration")
	assert.Equal(t, 1, trigger.Main(context.Background(), func(k string) string { return full[k] }, io.Discard, io.Discard),
		"Main uses only the in-cluster configuration, which a test process has not")

	// Reuse where the Role is not bound to the SA: the list is refused, and the
	// run fails instead of falling through to a create.
	const unbound = "failures-unbound"
	s.env.CreateNamespace(t, unbound, nil)
	s.bareNamespaceRBAC(t, unbound, false)
	s.seed(t, unbound, "stopped", schedule, v1alpha1.PhaseStopped, map[string]any{})
	code, _ = s.execute(t, unbound, cronEnv(`{"initialPrompt":"p"}`, unbound, schedule, true))
	assert.Equal(t, 1, code, "a reuse error")
	assert.Len(t, s.sessions(t, unbound), 1)
	assert.NotContains(t, s.sessions(t, unbound)["stopped"].GetAnnotations(), v1alpha1.AnnotationDesiredPhase)

	assert.Empty(t, s.sessions(t, ns), "no failed run created a session")
}
