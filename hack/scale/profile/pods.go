package profile

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/platformconfig"
	"github.com/ambient-code/agentic-operator/operator/runnerpod"
)

// Platform is the shipped operator's configuration with the platform's Deployment
// environment unset (every default of platformconfig.FromEnv), and Runtime the
// runtime a session without RUNNER_TYPE gets from it.
var (
	Platform, _ = platformconfig.FromEnv(func(string) string { return "" })
	Runtime     = Platform.DefaultRuntime("")
)

// RunnerPod builds the runner pod of session s (which must carry its UID) with
// operator/runnerpod.Build, from the inputs the shipped operator resolves on this
// profile's projects (operator/session.prepareInputs): ambient-runner-secrets
// only, no integrations Secret, no S3 keys, no CA bundle, no MCP servers, no
// models manifest; it resumes when the session has started before. Labels and
// ownerReferences are Build's (the session as controller); node places it as a
// scheduler would have.
func RunnerPod(s *v1alpha1.AgenticSession, node int) *corev1.Pod {
	pod := runnerpod.Build(runnerpod.Inputs{
		Session: s, Config: Platform, Runtime: Runtime,
		Owner: metav1.OwnerReference{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.KindAgenticSession,
			Name: s.Name, UID: s.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)},
		TokenSecret: v1alpha1.TokenSecretName(s.Name),
		Resume:      s.Status.StartTime != nil && s.Annotations[v1alpha1.AnnotationForceExecutePrompt] != v1alpha1.ValueTrue,
	})
	pod.Spec.NodeName = fmt.Sprintf("worker-%d", node%12)
	return pod
}

// RunnerPodStatus is the status a kubelet would have written for runner pod pod of a
// session in phase p: init-hydrate done, every container running (or still being
// created while the session is not Running).
func RunnerPodStatus(pod *corev1.Pod, p v1alpha1.Phase, node int, started time.Time) corev1.PodStatus {
	running := p == v1alpha1.PhaseRunning
	names := make([]string, len(pod.Spec.Containers))
	for n, c := range pod.Spec.Containers {
		names[n] = c.Name
	}
	st := podStatus(names, pod.Spec.Containers[0].Image, running, node, started)
	at := metav1.NewTime(started.UTC().Truncate(time.Second))
	for n, c := range pod.Spec.InitContainers {
		st.InitContainerStatuses = append(st.InitContainerStatuses, corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image,
			ContainerID: fmt.Sprintf("cri-o://%064x", node*7919+n+1000),
			State:       corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: at, FinishedAt: at}}})
	}
	return st
}

// SystemPodName is the name of system pod k.
func SystemPodName(k int) string {
	app, hash, suffix := systemPodIdentity(k)
	return app + "-" + hash + "-" + suffix
}

// systemPodIdentity is the app, ReplicaSet hash and suffix of system pod k, drawn first
// from the pod's stream so the name never depends on how the rest is built.
func systemPodIdentity(k int) (app, hash, suffix string) {
	r := rng(kindSystemPod, k)
	return pick(r, systemApps), fmt.Sprintf("%08x", r.Uint32()), fmt.Sprintf("%05x", r.Uint32()&0xfffff)
}

var systemApps = []string{"prometheus", "alertmanager", "node-exporter", "router-default", "dns-default",
	"fluentd", "console", "image-registry", "cert-manager-webhook", "vault-agent", "keda-operator", "argocd-repo-server"}

// SystemPod builds non-runner pod k in an unmanaged namespace: several containers with
// env, mounts, probes and resources, like the platform's neighbours on the cluster.
func SystemPod(c Counts, k int) *corev1.Pod {
	r := rng(kindSystemPod^0xabc, k)
	app, hash, _ := systemPodIdentity(k)
	name := SystemPodName(k)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: SystemNamespace(k % (c.Namespaces - c.Managed)),
			Labels:      map[string]string{"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "cluster-infra", "pod-template-hash": hash},
			Annotations: map[string]string{"kubectl.kubernetes.io/default-container": app, "openshift.io/scc": "restricted-v2"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: app + "-" + hash,
				UID: types.UID(uuidLike(r)), Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
		},
		Spec: corev1.PodSpec{
			NodeName: fmt.Sprintf("worker-%d", k%12), ServiceAccountName: app, PriorityClassName: "system-cluster-critical",
			Tolerations: []corev1.Toleration{{Key: "node-role.kubernetes.io/infra", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
				{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)}},
			Volumes: []corev1.Volume{
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: app + "-config"}}}},
				{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: app + "-tls"}}},
				{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			},
		},
	}
	for n := range 2 + r.IntN(3) {
		pod.Spec.Containers = append(pod.Spec.Containers, systemContainer(r, app, n))
	}
	return pod
}

// SystemPodStatus is a running pod's status for pod, as a kubelet would report it.
func SystemPodStatus(pod *corev1.Pod, k int, started time.Time) corev1.PodStatus {
	names := make([]string, len(pod.Spec.Containers))
	for n, c := range pod.Spec.Containers {
		names[n] = c.Name
	}
	return podStatus(names, pod.Spec.Containers[0].Image, true, k, started)
}

func systemContainer(r *rand.Rand, app string, n int) corev1.Container {
	name := app
	if n > 0 {
		name = pick(r, []string{"kube-rbac-proxy", "config-reloader", "oauth-proxy", "log-shipper"}) + fmt.Sprint("-", n)
	}
	c := corev1.Container{
		Name: name, Image: fmt.Sprintf("registry.example.com/infra/%s@sha256:%016x%016x", name, r.Uint64(), r.Uint64()),
		Args:  []string{"--config=/etc/" + app + "/config.yaml", "--log-level=info", fmt.Sprintf("--port=%d", 8080+n)},
		Ports: []corev1.ContainerPort{{Name: fmt.Sprintf("http-%d", n), ContainerPort: int32(8080 + n), Protocol: corev1.ProtocolTCP}},
		Env: []corev1.EnvVar{
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
		},
		Resources: resources("50m", "64Mi", "500m", "512Mi"),
		VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/etc/" + app, ReadOnly: true},
			{Name: "tls", MountPath: "/etc/tls/private", ReadOnly: true}, {Name: "data", MountPath: "/var/lib/" + app}},
		LivenessProbe:  probe("/healthz", 8080+n, 10),
		ReadinessProbe: probe("/readyz", 8080+n, 5),
		SecurityContext: &corev1.SecurityContext{RunAsNonRoot: ptr.To(true), ReadOnlyRootFilesystem: ptr.To(true),
			AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
	for e := range 3 + r.IntN(10) {
		c.Env = append(c.Env, corev1.EnvVar{Name: fmt.Sprintf("%s_%d", strings.ToUpper(pick(r, words)), e), Value: sentence(r, 4+r.IntN(40))})
	}
	return c
}

func probe(path string, port, period int) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt(port), Scheme: corev1.URISchemeHTTP}},
		PeriodSeconds: int32(period), TimeoutSeconds: 1, FailureThreshold: 3, InitialDelaySeconds: 5,
	}
}

func resources(reqCPU, reqMem, limCPU, limMem string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(reqCPU), corev1.ResourceMemory: resource.MustParse(reqMem)},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(limCPU), corev1.ResourceMemory: resource.MustParse(limMem)},
	}
}

// podStatus is a kubelet-like status: scheduled, initialised, and running or still
// creating its containers.
func podStatus(containers []string, image string, running bool, k int, started time.Time) corev1.PodStatus {
	at := metav1.NewTime(started.UTC().Truncate(time.Second))
	cond := func(t corev1.PodConditionType, ok bool) corev1.PodCondition {
		s := corev1.ConditionFalse
		if ok {
			s = corev1.ConditionTrue
		}
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: at}
	}
	st := corev1.PodStatus{
		Phase: corev1.PodPending, HostIP: fmt.Sprintf("192.0.2.%d", 10+k%12), StartTime: &at, QOSClass: corev1.PodQOSBurstable,
		PodIP:      fmt.Sprintf("198.18.%d.%d", (k/250)%250, 2+k%250),
		Conditions: []corev1.PodCondition{cond(corev1.PodScheduled, true), cond(corev1.PodInitialized, true), cond(corev1.ContainersReady, running), cond(corev1.PodReady, running)},
	}
	st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
	st.HostIPs = []corev1.HostIP{{IP: st.HostIP}}
	if running {
		st.Phase = corev1.PodRunning
	}
	for _, name := range containers {
		cs := corev1.ContainerStatus{Name: name, Image: image, ImageID: image, Ready: running, Started: ptr.To(running),
			ContainerID: fmt.Sprintf("cri-o://%064x", k*7919+len(name))}
		if running {
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: at}
		} else {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	return st
}
