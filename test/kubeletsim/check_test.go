package kubeletsim_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/kubeletsim"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

const (
	checkNS    = "proj"
	backendURL = "http://backend-service.ambient-code.svc.cluster.local:8080/api"
	runner     = v1alpha1.RunnerContainerName
)

func tokenSecretName(session string) string { return "ambient-runner-token-" + session }

// runnerPod is the pod the platform's operator builds for session with
// persistence off (runner-contract §3.2-3.7): init-hydrate, then the runner,
// with no state-sync sidecar, so the runner's exit ends the pod.
func runnerPod(session string) *corev1.Pod {
	token := tokenSecretName(session)
	workspaceMounts := []corev1.VolumeMount{
		{Name: "workspace", MountPath: "/workspace"},
		{Name: "workspace", MountPath: "/app/.claude", SubPath: ".claude"},
	}
	security := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	plain := func(kv ...string) []corev1.EnvVar {
		out := make([]corev1.EnvVar, 0, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			out = append(out, corev1.EnvVar{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	fromSecret := func(name, secret, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}}}
	}
	health := func(delay, period, timeout int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: "/health", Port: intstr.FromInt32(v1alpha1.RunnerPort)}},
			InitialDelaySeconds: delay, PeriodSeconds: period, TimeoutSeconds: timeout, FailureThreshold: 3,
		}
	}
	initEnv := plain("SESSION_NAME", session, "NAMESPACE", checkNS,
		"S3_ENDPOINT", "", "S3_BUCKET", "", "AWS_ACCESS_KEY_ID", "", "AWS_SECRET_ACCESS_KEY", "",
		"BACKEND_API_URL", backendURL, "PROJECT_NAME", checkNS)
	initEnv = append(initEnv, fromSecret("BOT_TOKEN", token, "k8s-token"))
	env := plain("DEBUG", "true", "AGENTIC_SESSION_NAME", session, "AGENTIC_SESSION_NAMESPACE", checkNS,
		"SESSION_ID", session, "PROJECT_NAME", checkNS, "WORKSPACE_PATH", "/workspace",
		"ARTIFACTS_DIR", "artifacts", "AGUI_PORT", "8001")
	env = append(env, fromSecret("AGUI_TOKEN", token, "agui-token"))
	env = append(env, plain("GOOGLE_MCP_CREDENTIALS_DIR", "/workspace/.google_workspace_mcp/credentials",
		"GOOGLE_OAUTH_CLIENT_ID", "", "GOOGLE_OAUTH_CLIENT_SECRET", "",
		"INITIAL_PROMPT", "", "LLM_MODEL", "", "LLM_TEMPERATURE", "0.00", "LLM_MAX_TOKENS", "0",
		"USE_AGUI", "true", "TIMEOUT", "0", "BACKEND_API_URL", backendURL,
		"USE_VERTEX", "0", "CLAUDE_CODE_USE_VERTEX", "0", "RUNNER_TYPE", "claude-agent-sdk")...)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: checkNS, Name: v1alpha1.RunnerPodName(session),
			Labels: v1alpha1.RunnerLabels(session)},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			TerminationGracePeriodSeconds: ptr.To[int64](60),
			AutomountServiceAccountToken:  ptr.To(false),
			InitContainers: []corev1.Container{{
				Name: "init-hydrate", Image: "example.invalid/state-sync:test",
				Command: []string{"/usr/local/bin/hydrate.sh"}, Env: initEnv,
				VolumeMounts: workspaceMounts, SecurityContext: security,
			}},
			Containers: []corev1.Container{{
				Name:  runner,
				Image: "example.invalid/ambient-runner:test",
				Ports: []corev1.ContainerPort{{Name: v1alpha1.RunnerPortName, ContainerPort: v1alpha1.RunnerPort, Protocol: corev1.ProtocolTCP}},
				Env:   env,
				EnvFrom: []corev1.EnvFromSource{
					{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "ambient-non-vertex-integrations"}}},
					{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "ambient-runner-secrets"}}},
				},
				ReadinessProbe: health(3, 5, 2),
				LivenessProbe:  health(20, 30, 5),
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2000m"), corev1.ResourceMemory: resource.MustParse("8Gi")},
				},
				VolumeMounts: append(append([]corev1.VolumeMount{}, workspaceMounts...),
					corev1.VolumeMount{Name: "runner-token", MountPath: "/var/run/secrets/ambient", ReadOnly: true}),
				SecurityContext: security,
			}},
			Volumes: []corev1.Volume{
				{Name: "workspace", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr.To(resource.MustParse("10Gi"))}}},
				{Name: "runner-token", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
					SecretName: token, Items: []corev1.KeyToPath{{Key: "k8s-token", Path: "bot-token"}}}}},
			},
		},
	}
}

// tokenSecret is the runner identity's Secret (runner-contract §2.3).
func tokenSecret(session string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: checkNS, Name: tokenSecretName(session)},
		Data:       map[string][]byte{"k8s-token": []byte("sa-token"), "agui-token": []byte("agui")},
	}
}

func envOf(pod *corev1.Pod, name string) *corev1.EnvVar {
	for i, e := range pod.Spec.Containers[0].Env {
		if e.Name == name {
			return &pod.Spec.Containers[0].Env[i]
		}
	}
	return nil
}

func dropEnv(pod *corev1.Pod, name string) {
	c := &pod.Spec.Containers[0]
	for i, e := range c.Env {
		if e.Name == name {
			c.Env = append(c.Env[:i], c.Env[i+1:]...)
			return
		}
	}
}

func dropMount(pod *corev1.Pod, mountPath string) {
	c := &pod.Spec.Containers[0]
	for i, m := range c.VolumeMounts {
		if m.MountPath == mountPath {
			c.VolumeMounts = append(c.VolumeMounts[:i], c.VolumeMounts[i+1:]...)
			return
		}
	}
}

// expect is what a real cluster would show for a pod.
type expect struct {
	stage     kubeletsim.Stage // "" for a pod that runs and serves
	phase     corev1.PodPhase
	container string // whose state carries reason and message
	init      bool   // the container is an init container
	reason    string
	message   string
	event     string // the kubelet's Warning event, for failures the status does not explain
}

// startCheckingSimulator starts a control plane with namespace checkNS and the
// simulator in check mode on it, stopped (and its error checked) when t ends.
func startCheckingSimulator(t *testing.T) (client.Client, context.Context) {
	t.Helper()
	env := testenv.Start(t, testenv.Options{})
	env.CreateNamespace(t, checkNS, nil)
	c := env.Client
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- kubeletsim.RunWithOptions(ctx, env.Config, testr.New(t), kubeletsim.Options{CheckRunner: true})
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return c, ctx
}

func TestCheckRunnerPod(t *testing.T) {
	c, ctx := startCheckingSimulator(t)
	// testenv.CreateNamespace made ambient-runner-secrets, as a project has it.
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: checkNS, Name: "ambient-non-vertex-integrations"},
			Data: map[string][]byte{"STORAGE_MODE": []byte("none")}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: checkNS, Name: "ambient-vertex"},
			Data: map[string][]byte{"ambient-code-key.json": []byte("{}")}},
	} {
		require.NoError(t, c.Create(ctx, s))
	}

	exited := func(message string) expect {
		return expect{stage: kubeletsim.StageRunnerStart, phase: corev1.PodFailed, container: runner,
			reason: kubeletsim.ReasonError, message: message}
	}
	configError := func(message string) expect {
		return expect{stage: kubeletsim.StageContainerConfig, phase: corev1.PodPending, container: runner,
			reason: kubeletsim.ReasonCreateContainerConfigError, message: message}
	}
	vertex := func(p *corev1.Pod) {
		envOf(p, "USE_VERTEX").Value = "1"
		envOf(p, "CLAUDE_CODE_USE_VERTEX").Value = "1"
		c := &p.Spec.Containers[0]
		c.EnvFrom = c.EnvFrom[:1] // Vertex on: no ambient-runner-secrets
		c.Env = append(c.Env,
			corev1.EnvVar{Name: "CLOUD_ML_REGION", Value: "us-east5"},
			corev1.EnvVar{Name: "ANTHROPIC_VERTEX_PROJECT_ID", Value: "proj-123"},
			corev1.EnvVar{Name: "GOOGLE_APPLICATION_CREDENTIALS", Value: "/app/vertex/ambient-code-key.json"})
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "vertex", MountPath: "/app/vertex", ReadOnly: true})
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "vertex",
			VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "ambient-vertex"}}})
	}
	cases := []struct {
		name   string
		pod    func(*corev1.Pod)
		secret func(*corev1.Secret) bool // false: the token Secret is not created
		want   func(session string) expect
	}{
		{name: "correct pod runs", want: func(string) expect {
			return expect{phase: corev1.PodRunning}
		}},
		{name: "correct Vertex pod runs", pod: vertex, want: func(string) expect {
			return expect{phase: corev1.PodRunning}
		}},
		{name: "missing token Secret", secret: func(*corev1.Secret) bool { return false }, want: func(s string) expect {
			// Init containers wait too, so every container shows PodInitializing.
			return expect{stage: kubeletsim.StageMount, phase: corev1.PodPending, container: runner,
				reason: kubeletsim.ReasonPodInitializing,
				event:  fmt.Sprintf(`MountVolume.SetUp failed for volume "runner-token" : secret %q not found`, tokenSecretName(s))}
		}},
		{name: "missing token Secret without init container", pod: func(p *corev1.Pod) { p.Spec.InitContainers = nil },
			secret: func(*corev1.Secret) bool { return false }, want: func(s string) expect {
				return expect{stage: kubeletsim.StageMount, phase: corev1.PodPending, container: runner,
					reason: kubeletsim.ReasonContainerCreating,
					event:  fmt.Sprintf(`MountVolume.SetUp failed for volume "runner-token" : secret %q not found`, tokenSecretName(s))}
			}},
		{name: "missing k8s-token key", secret: func(s *corev1.Secret) bool { delete(s.Data, "k8s-token"); return true },
			want: func(string) expect {
				return expect{stage: kubeletsim.StageMount, phase: corev1.PodPending, container: runner,
					reason: kubeletsim.ReasonPodInitializing,
					event:  `MountVolume.SetUp failed for volume "runner-token" : references non-existent secret key: k8s-token`}
			}},
		{name: "missing agui-token key", secret: func(s *corev1.Secret) bool { delete(s.Data, "agui-token"); return true },
			want: func(s string) expect {
				e := configError(fmt.Sprintf("couldn't find key agui-token in Secret %s/%s", checkNS, tokenSecretName(s)))
				e.event = "Error: " + e.message
				return e
			}},
		{name: "init container's Secret missing", pod: func(p *corev1.Pod) {
			p.Spec.InitContainers[0].Env[len(p.Spec.InitContainers[0].Env)-1].ValueFrom.SecretKeyRef.Name = "no-such-token"
		}, want: func(string) expect {
			return expect{stage: kubeletsim.StageContainerConfig, phase: corev1.PodPending, container: "init-hydrate", init: true,
				reason: kubeletsim.ReasonCreateContainerConfigError, message: `secret "no-such-token" not found`}
		}},
		{name: "missing ambient-runner-secrets", pod: func(p *corev1.Pod) {
			p.Spec.Containers[0].EnvFrom[1].SecretRef.Name = "ambient-runner-secrets-absent"
		}, want: func(string) expect {
			return configError(`secret "ambient-runner-secrets-absent" not found`)
		}},
		{name: "optional envFrom may be missing", pod: func(p *corev1.Pod) {
			ref := p.Spec.Containers[0].EnvFrom[0].SecretRef
			ref.Name, ref.Optional = "absent", ptr.To(true)
		}, want: func(string) expect { return expect{phase: corev1.PodRunning} }},
		{name: "no SESSION_ID", pod: func(p *corev1.Pod) { dropEnv(p, "SESSION_ID") }, want: func(string) expect {
			return exited(`SESSION_ID is not set: the runner would start as session "unknown" (its default) and address the backend with that ID`)
		}},
		{name: "no PROJECT_NAME", pod: func(p *corev1.Pod) { dropEnv(p, "PROJECT_NAME") }, want: func(string) expect {
			return exited("PROJECT_NAME is not set: the runner would address the backend for no project where it reads only PROJECT_NAME")
		}},
		{name: "external BACKEND_API_URL", pod: func(p *corev1.Pod) {
			envOf(p, "BACKEND_API_URL").Value = "https://backend.example.com/api"
		}, want: func(string) expect {
			return exited("Refusing to send credentials to external host: backend.example.com")
		}},
		{name: "BACKEND_API_URL without /api", pod: func(p *corev1.Pod) {
			envOf(p, "BACKEND_API_URL").Value = "http://backend-service.ambient-code.svc:8080"
		}, want: func(string) expect {
			return exited(`BACKEND_API_URL "http://backend-service.ambient-code.svc:8080" does not end in /api: ` +
				"the runner appends /projects/<project>/... to it, and the backend serves those routes under /api")
		}},
		{name: "bad RUNNER_TYPE", pod: func(p *corev1.Pod) { envOf(p, "RUNNER_TYPE").Value = " Claude " }, want: func(string) expect {
			return exited(`ValueError: Unknown RUNNER_TYPE='claude'. Available: ['claude-agent-sdk', 'gemini-cli', 'langgraph']`)
		}},
		{name: "no token mount", pod: func(p *corev1.Pod) { dropMount(p, "/var/run/secrets/ambient") }, want: func(string) expect {
			return exited("/var/run/secrets/ambient/bot-token is not there: the runner would call the backend without a BOT token " +
				"(every call 401s); nothing is mounted at /var/run/secrets/ambient")
		}},
		{name: "token not projected as bot-token", pod: func(p *corev1.Pod) {
			p.Spec.Volumes[1].Secret.Items[0].Path = "token"
		}, want: func(string) expect {
			return exited("/var/run/secrets/ambient/bot-token is not there: the runner would call the backend without a BOT token " +
				`(every call 401s); Secret volume "runner-token" does not project key k8s-token to bot-token`)
		}},
		{name: "no /workspace", pod: func(p *corev1.Pod) { dropMount(p, "/workspace") }, want: func(string) expect {
			return exited(`Failed to create working directory: [Errno 13] Permission denied: '/workspace' ` +
				`(the pod's "workspace" volume is not mounted at /workspace)`)
		}},
		{name: "read-only /workspace", pod: func(p *corev1.Pod) { p.Spec.Containers[0].VolumeMounts[0].ReadOnly = true },
			want: func(string) expect {
				return exited(`Failed to create working directory: [Errno 30] Read-only file system: '/workspace/artifacts' ` +
					`(volume "workspace" is mounted read-only at /workspace)`)
			}},
		{name: "wrong port", pod: func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 8080 }, want: func(string) expect {
			return exited(`the runner serves on 8001 (image CMD: uvicorn main:app --host 0.0.0.0 --port 8001), ` +
				`but the container declares no TCP port 8001 named "agui" (ports: agui=8080/TCP)`)
		}},
		{name: "probe on another path", pod: func(p *corev1.Pod) {
			p.Spec.Containers[0].ReadinessProbe.HTTPGet.Path = "/healthz"
		}, want: func(string) expect {
			return exited("readinessProbe is GET http://:8001/healthz: the runner answers health checks only at GET http://:8001/health")
		}},
		{name: "runner exit leaves a pod with a sidecar running", pod: func(p *corev1.Pod) {
			dropEnv(p, "SESSION_ID")
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "state-sync",
				Image: "example.invalid/state-sync:test", Command: []string{"/usr/local/bin/sync.sh"}})
		}, want: func(string) expect {
			e := exited(`SESSION_ID is not set: the runner would start as session "unknown" (its default) and address the backend with that ID`)
			e.phase = corev1.PodRunning // as the kubelet's phase rule says while state-sync runs
			return e
		}},
		{name: "no model credentials fail only the first run", pod: func(p *corev1.Pod) {
			p.Spec.Containers[0].EnvFrom = p.Spec.Containers[0].EnvFrom[:1]
		}, want: func(string) expect {
			return expect{stage: kubeletsim.StageFirstRun, phase: corev1.PodRunning, container: runner,
				reason: kubeletsim.ReasonRunError, message: "Either ANTHROPIC_API_KEY or USE_VERTEX=1 must be set"}
		}},
		{name: "Vertex key file not mounted", pod: func(p *corev1.Pod) {
			vertex(p)
			envOf(p, "GOOGLE_APPLICATION_CREDENTIALS").Value = "/app/vertex/other-key.json"
		}, want: func(string) expect {
			return expect{stage: kubeletsim.StageFirstRun, phase: corev1.PodRunning, container: runner,
				reason: kubeletsim.ReasonRunError, message: "Service account key file not found at /app/vertex/other-key.json"}
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			session := fmt.Sprintf("s%d", i)
			want := tc.want(session)
			secret := tokenSecret(session)
			if tc.secret == nil || tc.secret(secret) {
				require.NoError(t, c.Create(ctx, secret))
			}
			pod := runnerPod(session)
			if tc.pod != nil {
				tc.pod(pod)
			}
			require.NoError(t, c.Create(ctx, pod))

			got := waitFor(t, c, pod, func(p *corev1.Pod) bool {
				if want.stage == "" || want.stage == kubeletsim.StageFirstRun {
					return p.Status.Phase == want.phase
				}
				cs := findStatus(p, want.container, want.init)
				return p.Status.Phase == want.phase && cs != nil && stateReason(cs.State) == want.reason
			})
			f := kubeletsim.CheckRunnerPod(ctx, c, got)
			if want.stage == "" {
				assert.Nil(t, f, "a correct pod passes every check")
				assert.True(t, hasCondition(got, corev1.PodReady, corev1.ConditionTrue))
				return
			}
			require.NotNil(t, f)
			assert.Equal(t, want.stage, f.Stage)
			assert.Equal(t, want.reason, f.Reason)
			if want.stage == kubeletsim.StageMount {
				assert.Equal(t, want.event, f.Message)
			} else {
				assert.Equal(t, want.container, f.Container)
				assert.Equal(t, want.message, f.Message)
			}
			if want.stage == kubeletsim.StageFirstRun {
				// The real runner serves on: the pod runs and is ready.
				assert.True(t, hasCondition(got, corev1.PodReady, corev1.ConditionTrue))
				return
			}
			assert.True(t, hasCondition(got, corev1.PodReady, corev1.ConditionFalse))
			cs := findStatus(got, want.container, want.init)
			switch want.stage {
			case kubeletsim.StageRunnerStart:
				require.NotNil(t, cs.State.Terminated)
				assert.Equal(t, int32(kubeletsim.RunnerExitCode), cs.State.Terminated.ExitCode)
				assert.Equal(t, want.message, cs.State.Terminated.Message)
			case kubeletsim.StageContainerConfig:
				assert.Equal(t, want.message, cs.State.Waiting.Message)
			}
			if want.event != "" {
				// Recorded just after the status, so it may lag the wait.
				assert.Eventually(t, func() bool { return contains(events(t, c, got), want.event) },
					wait, tick, "the kubelet's event %q", want.event)
			}
		})
	}
}

// A Secret created after the pod lets it start, as the kubelet's retry would.
func TestCheckedPodStartsOnceItsSecretExists(t *testing.T) {
	c, ctx := startCheckingSimulator(t)
	require.NoError(t, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: checkNS, Name: "ambient-non-vertex-integrations"}}))
	// The project's API keys are missing until the pod waits for them.
	require.NoError(t, c.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: checkNS, Name: "ambient-runner-secrets"}}))
	require.NoError(t, c.Create(ctx, tokenSecret("late")))
	pod := runnerPod("late")
	require.NoError(t, c.Create(ctx, pod))
	waitFor(t, c, pod, func(p *corev1.Pod) bool {
		cs := findStatus(p, runner, false)
		return cs != nil && stateReason(cs.State) == kubeletsim.ReasonCreateContainerConfigError
	})
	require.NoError(t, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: checkNS, Name: "ambient-runner-secrets"},
		Data: map[string][]byte{"ANTHROPIC_API_KEY": []byte("sk-test")}}))
	got := waitFor(t, c, pod, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	assert.NotNil(t, findStatus(got, runner, false).State.Running)
}

// The API server refuses a mount of a volume the pod lacks, so only the pure
// check can meet one; it answers in the kubelet's words.
func TestCheckRunnerPodMountOfNoVolume(t *testing.T) {
	pod := runnerPod("mem")
	pod.Spec.InitContainers = nil
	pod.Spec.Volumes = pod.Spec.Volumes[:1] // keep only the workspace, so no Secret is read for volumes
	pod.Spec.Containers[0].Env = nil
	pod.Spec.Containers[0].EnvFrom = nil
	f := kubeletsim.CheckRunnerPod(context.Background(), nil, pod)
	require.NotNil(t, f)
	assert.Equal(t, kubeletsim.StageContainerConfig, f.Stage)
	assert.Equal(t, `cannot find volume "runner-token" to mount into container "ambient-code-runner"`, f.Message)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func findStatus(p *corev1.Pod, name string, init bool) *corev1.ContainerStatus {
	statuses := p.Status.ContainerStatuses
	if init {
		statuses = p.Status.InitContainerStatuses
	}
	for i := range statuses {
		if statuses[i].Name == name {
			return &statuses[i]
		}
	}
	return nil
}

func stateReason(s corev1.ContainerState) string {
	switch {
	case s.Waiting != nil:
		return s.Waiting.Reason
	case s.Terminated != nil:
		return s.Terminated.Reason
	}
	return ""
}

// events are the messages of the Warning events on pod.
func events(t *testing.T, c client.Client, pod *corev1.Pod) []string {
	t.Helper()
	var list corev1.EventList
	require.NoError(t, c.List(context.Background(), &list, client.InNamespace(pod.Namespace)))
	var out []string
	for _, e := range list.Items {
		if e.InvolvedObject.UID == pod.UID && e.Type == corev1.EventTypeWarning {
			out = append(out, e.Message)
		}
	}
	return out
}
