package operator_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/copiedsecrets"
	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/operator/platformconfig"
	"github.com/ambient-code/agentic-operator/operator/session"
	"github.com/ambient-code/agentic-operator/test/identity"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// registryJSON is an agent registry as the platform's ConfigMap holds one: the
// default runtime with its own image and resources, and a second runtime on
// another port.
const registryJSON = `[
  {"id": "claude-agent-sdk",
   "container": {"image": "registry.example/claude-runner:2.0", "port": 8001,
     "env": {"RUNNER_TYPE": "claude-agent-sdk", "FROM_REGISTRY": "yes"},
     "resources": {"requests": {"cpu": "750m", "memory": "1Gi"}, "limits": {"cpu": "3", "memory": "6Gi"}}},
   "sandbox": {"stateDir": ".claude", "stateSyncImage": "registry.example/state-sync:2.0", "persistence": "s3",
     "workspaceSize": "5Gi", "terminationGracePeriod": 45, "seed": {"cloneRepos": true, "hydrateState": true}}},
  {"id": "wide-port",
   "container": {"image": "registry.example/other-runner:1.0", "port": 9100},
   "sandbox": {"persistence": "none", "seed": {"cloneRepos": false, "hydrateState": false}}}
]`

// clock is real time plus an offset the test moves forward.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time       { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Step(d time.Duration) { c.offset.Add(int64(d)) }

// TestRunnerPodModes runs the operator, under its shipped roles, in Vertex mode
// with an agent registry mounted and a project on custom S3 storage: the pod
// takes image, resources and port from the registry, the Vertex settings and key
// and the project's S3 settings, and passes the runner's start-up checks; the
// token is refreshed before it expires under a clock the test moves; a restart
// with force-execute-prompt runs the prompt again (no IS_RESUME).
func TestRunnerPodModes(t *testing.T) {
	dumpLogsOnFailure(t)
	const ns = "modes"
	ctx := context.Background()
	env := testenv.Start(t, testenv.Options{})
	op := identity.Shipped(t, env)
	env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	env.CreateNamespace(t, testenv.BackendNamespace, nil)
	// Vertex needs no API keys: the project's are gone.
	require.NoError(t, env.Client.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.RunnerSecretsName}}))
	require.NoError(t, env.Client.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: testenv.BackendNamespace, Name: copiedsecrets.Vertex},
		StringData: map[string]string{"ambient-code-key.json": `{"type":"service_account"}`}}))
	require.NoError(t, env.Client.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: session.IntegrationSecretsName},
		StringData: map[string]string{"STORAGE_MODE": "custom", "S3_ENDPOINT": "https://s3.team.example", "S3_BUCKET": "team-sessions",
			"S3_ACCESS_KEY": "AKIA-TEAM", "S3_SECRET_KEY": "team-secret"}}))

	registry := filepath.Join(t.TempDir(), "agent-registry.json")
	require.NoError(t, os.WriteFile(registry, []byte(registryJSON), 0o600))
	platform := testenv.PlatformConfig()
	platform.Vertex = platformconfig.Vertex{Enabled: true, Region: "global", ProjectID: "ambient-code-platform",
		CredentialsPath: "/app/vertex/ambient-code-key.json"}
	clk := &clock{}
	startOperator(t, op.Config(env.Config), manager.Options{MaxConcurrentReconciles: 2, Now: clk.Now,
		Runner: session.RunnerConfig{Platform: platform,
			Registry: platformconfig.NewRegistry(registry, platform.DefaultImages(), logr.Discard())}})
	kubelet := kubelet{c: env.Client}

	const name = "vertex-s3"
	require.NoError(t, env.Client.Create(ctx, backendSession(ns, name)))
	testenv.Eventually(t, waitTimeout, "session Creating", phaseIs(env.Client, ns, name, v1alpha1.PhaseCreating))
	pod := &corev1.Pod{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.RunnerPodName(name)}, pod))

	t.Run("the registry entry", func(t *testing.T) {
		runner := pod.Spec.Containers[0]
		assert.Equal(t, "registry.example/claude-runner:2.0", runner.Image)
		assert.Equal(t, resource.MustParse("750m"), runner.Resources.Requests[corev1.ResourceCPU])
		assert.Equal(t, resource.MustParse("6Gi"), runner.Resources.Limits[corev1.ResourceMemory])
		assert.Equal(t, "registry.example/state-sync:2.0", pod.Spec.InitContainers[0].Image)
		assert.Equal(t, int64(45), *pod.Spec.TerminationGracePeriodSeconds)
		assert.Equal(t, "yes", envOf(runner)["FROM_REGISTRY"])
		for _, v := range pod.Spec.Volumes {
			if v.Name == "workspace" {
				assert.Equal(t, "5Gi", v.EmptyDir.SizeLimit.String())
			}
		}
	})
	t.Run("Vertex mode", func(t *testing.T) {
		e := envOf(pod.Spec.Containers[0])
		assert.Equal(t, "1", e["USE_VERTEX"])
		assert.Equal(t, "1", e["CLAUDE_CODE_USE_VERTEX"])
		assert.Equal(t, "global", e["CLOUD_ML_REGION"])
		assert.Equal(t, "ambient-code-platform", e["ANTHROPIC_VERTEX_PROJECT_ID"])
		assert.Equal(t, "/app/vertex/ambient-code-key.json", e["GOOGLE_APPLICATION_CREDENTIALS"])
		assert.Equal(t, "metadata.invalid", e["GCE_METADATA_HOST"])
		for _, from := range pod.Spec.Containers[0].EnvFrom {
			assert.NotEqual(t, "ambient-runner-secrets", from.SecretRef.Name, "no API keys in Vertex mode")
		}
		mounted := false
		for _, m := range pod.Spec.Containers[0].VolumeMounts {
			mounted = mounted || (m.MountPath == "/app/vertex" && m.ReadOnly)
		}
		assert.True(t, mounted, "the Vertex key is mounted at /app/vertex")
		copied := &corev1.Secret{}
		require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: copiedsecrets.Vertex}, copied))
		assert.Contains(t, copied.Data, "ambient-code-key.json")
	})
	t.Run("the project's S3 storage", func(t *testing.T) {
		e := envOf(pod.Spec.InitContainers[0])
		assert.Equal(t, "https://s3.team.example", e["S3_ENDPOINT"])
		assert.Equal(t, "team-sessions", e["S3_BUCKET"])
		assert.Equal(t, "AKIA-TEAM", e["AWS_ACCESS_KEY_ID"])
		assert.Equal(t, "team-secret", e["AWS_SECRET_ACCESS_KEY"])
		sync := pod.Spec.Containers[1]
		assert.Equal(t, "state-sync", sync.Name)
		assert.Equal(t, "https://s3.team.example", envOf(sync)["S3_ENDPOINT"])
		got, err := getSession(ctx, env.Client, ns, name)
		require.NoError(t, err)
		assert.Contains(t, conditionReasons(got), "S3Available=True/Configured")
		assert.Contains(t, conditionReasons(got), "IntegrationSecretsReady=True/OptionalSecretFound")
	})

	// The kubelet simulator checks the pod as the runner would, Vertex key file included.
	kubelet.run(t, ns, v1alpha1.RunnerPodName(name))
	testenv.Eventually(t, waitTimeout, "session Running", phaseIs(env.Client, ns, name, v1alpha1.PhaseRunning))

	t.Run("the token is refreshed before it expires", func(t *testing.T) {
		before := secretOf(t, env, ns, v1alpha1.TokenSecretName(name))
		clk.Step(46 * time.Minute)
		// Any write wakes the reconcile that finds the token due.
		touch(t, env, ns, name)
		testenv.Eventually(t, waitTimeout, "k8s-token refreshed", func(ctx context.Context) error {
			after := secretOf(t, env, ns, v1alpha1.TokenSecretName(name))
			if string(after.Data["k8s-token"]) == string(before.Data["k8s-token"]) {
				return fmt.Errorf("not refreshed")
			}
			if string(after.Data["agui-token"]) != string(before.Data["agui-token"]) {
				return fmt.Errorf("the AG-UI token must not change while the runner runs")
			}
			return nil
		})
	})

	t.Run("force-execute-prompt runs the prompt on a restart", func(t *testing.T) {
		annotate(t, env, ns, name, map[string]string{v1alpha1.AnnotationDesiredPhase: v1alpha1.DesiredStopped})
		testenv.Eventually(t, waitTimeout, "session Stopped", phaseIs(env.Client, ns, name, v1alpha1.PhaseStopped))
		annotate(t, env, ns, name, map[string]string{v1alpha1.AnnotationDesiredPhase: v1alpha1.DesiredRunning,
			v1alpha1.AnnotationForceExecutePrompt: v1alpha1.ValueTrue})
		testenv.Eventually(t, waitTimeout, "session Creating", phaseIs(env.Client, ns, name, v1alpha1.PhaseCreating))
		again := &corev1.Pod{}
		require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.RunnerPodName(name)}, again))
		assert.NotContains(t, envOf(again.Spec.Containers[0]), "IS_RESUME")
		got, err := getSession(ctx, env.Client, ns, name)
		require.NoError(t, err)
		assert.NotContains(t, got.Annotations, v1alpha1.AnnotationForceExecutePrompt, "consumed by the pod")
	})

	t.Run("a registry entry on another port", func(t *testing.T) {
		const other = "wide-port"
		s := backendSession(ns, other)
		s.Spec.EnvironmentVariables = map[string]string{"RUNNER_TYPE": "wide-port"}
		require.NoError(t, env.Client.Create(ctx, s))
		testenv.Eventually(t, waitTimeout, "session Creating", phaseIs(env.Client, ns, other, v1alpha1.PhaseCreating))
		p := &corev1.Pod{}
		require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.RunnerPodName(other)}, p))
		assert.Equal(t, "registry.example/other-runner:1.0", p.Spec.Containers[0].Image)
		assert.Equal(t, int32(9100), p.Spec.Containers[0].Ports[0].ContainerPort)
		assert.Equal(t, "9100", envOf(p.Spec.Containers[0])["AGUI_PORT"])
		assert.Empty(t, p.Spec.InitContainers, "no seed: no init-hydrate")
		assert.Len(t, p.Spec.Containers, 1, "persistence none: no state-sync")
		svc := &corev1.Service{}
		require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.ServiceName(other)}, svc))
		assert.Equal(t, int32(9100), svc.Spec.Ports[0].Port)
	})
}

func conditionReasons(s *v1alpha1.AgenticSession) []string {
	var out []string
	for _, c := range s.Status.Conditions {
		out = append(out, fmt.Sprintf("%s=%s/%s", c.Type, c.Status, c.Reason))
	}
	return out
}

func secretOf(t *testing.T, env *testenv.Env, ns, name string) *corev1.Secret {
	t.Helper()
	secret := &corev1.Secret{}
	require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, secret))
	return secret
}

// touch writes an unrelated annotation, which wakes the session's reconcile.
func touch(t *testing.T, env *testenv.Env, ns, name string) {
	t.Helper()
	annotate(t, env, ns, name, map[string]string{"test.ambient-code.io/touched": time.Now().Format(time.RFC3339Nano)})
}
