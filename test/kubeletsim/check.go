package kubeletsim

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// Stage says how far a pod gets before a check fails; it decides the status the
// simulator writes, as the point of failure decides what a real cluster shows.
type Stage string

const (
	// StageMount: a volume cannot be set up, so the kubelet creates no container.
	// Every container stays Waiting (ContainerCreating, or PodInitializing when the
	// pod has init containers) and the reason is only in a FailedMount event.
	StageMount Stage = "Mount"
	// StageContainerConfig: the kubelet cannot build one container's environment or
	// mounts; that container stays Waiting with reason CreateContainerConfigError.
	StageContainerConfig Stage = "ContainerConfig"
	// StageRunnerStart: the runner process would not come up usable; its container
	// terminates with exit code 1.
	StageRunnerStart Stage = "RunnerStart"
	// StageFirstRun: the runner starts and answers /health, so the pod runs and is
	// ready; the failure is what the runner answers its first run with (a
	// RUN_ERROR event), because it checks model credentials only then.
	StageFirstRun Stage = "FirstRun"
)

// Container state reasons the kubelet writes, and the one the simulator uses for
// a first-run failure (the AG-UI event type the runner answers with).
const (
	ReasonContainerCreating          = "ContainerCreating"
	ReasonPodInitializing            = "PodInitializing"
	ReasonCreateContainerConfigError = "CreateContainerConfigError"
	ReasonError                      = "Error"
	ReasonCrashLoopBackOff           = "CrashLoopBackOff"
	ReasonRunError                   = "RUN_ERROR"
)

// RunnerExitCode is the exit code of a runner that fails at start-up: Python's
// for an uncaught exception, which is how the runner fails at import.
const RunnerExitCode = 1

// Failure is the first check a pod fails, in the order a kubelet and then the
// runner would meet it.
type Failure struct {
	Stage Stage
	// Container shows the failure in its status; empty for StageMount, which
	// holds back every container.
	Container string
	// Reason is the container state's reason: ContainerCreating or
	// PodInitializing (mount), CreateContainerConfigError, Error (runner start),
	// RUN_ERROR (first run).
	Reason string
	// Message is the kubelet's or the runner's own text: the FailedMount event's
	// message, the waiting message, or the runner's last words.
	Message string
}

func (f *Failure) String() string {
	if f.Container == "" {
		return fmt.Sprintf("%s: %s: %s", f.Stage, f.Reason, f.Message)
	}
	return fmt.Sprintf("%s: container %s: %s: %s", f.Stage, f.Container, f.Reason, f.Message)
}

// CheckRunnerPod checks pod as a kubelet would before and while starting its
// containers (volumes, then each init container's environment and mounts, then
// each container's), then checks the container ambient-code-runner against what
// the platform's runner needs at start-up (runner-contract §8). Secrets and
// ConfigMaps are read through reader. It returns the first failure, or nil when
// the pod would run and the runner would serve its first run. A first-run
// failure (StageFirstRun) is returned last, since the pod does run.
func CheckRunnerPod(ctx context.Context, reader client.Reader, pod *corev1.Pod) *Failure {
	return checkPod(ctx, reader, pod).first(pod)
}

// podCheck is every failure the simulator needs to write a pod's status: the
// kubelet stops at a mount or init-container failure, but starts each main
// container on its own, so some may run while another fails.
type podCheck struct {
	mount     *Failure
	initIndex int
	init      *Failure
	main      map[string]*Failure
	firstRun  *Failure
}

func (p podCheck) first(pod *corev1.Pod) *Failure {
	switch {
	case p.mount != nil:
		return p.mount
	case p.init != nil:
		return p.init
	}
	for _, c := range pod.Spec.Containers {
		if f := p.main[c.Name]; f != nil {
			return f
		}
	}
	return p.firstRun
}

func (p podCheck) failed() bool {
	return p.mount != nil || p.init != nil || len(p.main) > 0
}

func checkPod(ctx context.Context, reader client.Reader, pod *corev1.Pod) podCheck {
	k := &kubelet{ctx: ctx, reader: reader, pod: pod,
		secrets: map[string]*corev1.Secret{}, configMaps: map[string]*corev1.ConfigMap{}}
	result := podCheck{main: map[string]*Failure{}}
	if msg := k.mountVolumes(); msg != "" {
		reason := ReasonContainerCreating
		if len(pod.Spec.InitContainers) > 0 {
			reason = ReasonPodInitializing
		}
		result.mount = &Failure{Stage: StageMount, Reason: reason, Message: msg}
		return result
	}
	// Init containers run one at a time; the first that cannot start holds back
	// the rest and every main container.
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if _, err := k.containerConfig(c); err != nil {
			result.initIndex = i
			result.init = configFailure(c.Name, err)
			return result
		}
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		env, err := k.containerConfig(c)
		if err != nil {
			result.main[c.Name] = configFailure(c.Name, err)
			continue
		}
		if c.Name != v1alpha1.RunnerContainerName {
			continue
		}
		r := &runner{kubelet: k, container: c, env: env}
		if msg := r.startUp(); msg != "" {
			result.main[c.Name] = &Failure{Stage: StageRunnerStart, Container: c.Name, Reason: ReasonError, Message: msg}
			continue
		}
		if msg := r.firstRun(); msg != "" {
			result.firstRun = &Failure{Stage: StageFirstRun, Container: c.Name, Reason: ReasonRunError, Message: msg}
		}
	}
	return result
}

func configFailure(container string, err error) *Failure {
	return &Failure{Stage: StageContainerConfig, Container: container,
		Reason: ReasonCreateContainerConfigError, Message: err.Error()}
}

// kubelet holds what one pod sync reads, as the kubelet reads each Secret and
// ConfigMap once per sync.
type kubelet struct {
	ctx        context.Context
	reader     client.Reader
	pod        *corev1.Pod
	secrets    map[string]*corev1.Secret
	configMaps map[string]*corev1.ConfigMap
}

// secret reads a Secret of the pod's namespace. A missing one is reported in the
// kubelet's words: its secret manager names the resource "secret", not the API
// server's "secrets".
func (k *kubelet) secret(name string) (*corev1.Secret, error) {
	if s, ok := k.secrets[name]; ok {
		return s, nil
	}
	s := &corev1.Secret{}
	if err := k.reader.Get(k.ctx, client.ObjectKey{Namespace: k.pod.Namespace, Name: name}, s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secret"}, name)
		}
		return nil, err
	}
	k.secrets[name] = s
	return s, nil
}

// configMap is secret's twin for ConfigMaps.
func (k *kubelet) configMap(name string) (*corev1.ConfigMap, error) {
	if cm, ok := k.configMaps[name]; ok {
		return cm, nil
	}
	cm := &corev1.ConfigMap{}
	if err := k.reader.Get(k.ctx, client.ObjectKey{Namespace: k.pod.Namespace, Name: name}, cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "configmap"}, name)
		}
		return nil, err
	}
	k.configMaps[name] = cm
	return cm, nil
}

// mountVolumes sets up every Secret and ConfigMap volume of the pod, used or not,
// as the kubelet does before it creates the sandbox. It returns the FailedMount
// event's message for the first that fails. Other volume types need nothing
// from the API here.
func (k *kubelet) mountVolumes() string {
	for _, v := range k.pod.Spec.Volumes {
		var err error
		switch {
		case v.Secret != nil:
			err = k.secretVolume(v.Secret)
		case v.ConfigMap != nil:
			err = k.configMapVolume(v.ConfigMap)
		}
		if err != nil {
			return fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", v.Name, err)
		}
	}
	return ""
}

func (k *kubelet) secretVolume(src *corev1.SecretVolumeSource) error {
	optional := src.Optional != nil && *src.Optional
	s, err := k.secret(src.SecretName)
	if err != nil {
		if apierrors.IsNotFound(err) && optional {
			return nil
		}
		return err
	}
	for _, item := range src.Items {
		if _, ok := s.Data[item.Key]; !ok && !optional {
			return fmt.Errorf("references non-existent secret key: %s", item.Key)
		}
	}
	return nil
}

func (k *kubelet) configMapVolume(src *corev1.ConfigMapVolumeSource) error {
	optional := src.Optional != nil && *src.Optional
	cm, err := k.configMap(src.Name)
	if err != nil {
		if apierrors.IsNotFound(err) && optional {
			return nil
		}
		return err
	}
	for _, item := range src.Items {
		_, inData := cm.Data[item.Key]
		_, inBinary := cm.BinaryData[item.Key]
		if !inData && !inBinary && !optional {
			return fmt.Errorf("configmap references non-existent config key: %s", item.Key)
		}
	}
	return nil
}

// containerConfig does what the kubelet does to build a container's config:
// the environment first, then the mounts. It returns the resolved environment.
func (k *kubelet) containerConfig(c *corev1.Container) (map[string]string, error) {
	env, err := k.environment(c)
	if err != nil {
		return nil, err
	}
	for _, m := range c.VolumeMounts {
		if volume(k.pod, m.Name) == nil {
			// The API server rejects such a pod, so only a pod checked in memory
			// gets here; the kubelet's words are kept all the same.
			return nil, fmt.Errorf("cannot find volume %q to mount into container %q", m.Name, c.Name)
		}
	}
	return env, nil
}

// environment resolves c's environment as the kubelet does: envFrom sources in
// order, then env entries in order, later names replacing earlier ones. Values
// are taken literally ($(VAR) references are not expanded: the operator writes
// none), and resourceFieldRef values are left out (nothing checked reads them).
func (k *kubelet) environment(c *corev1.Container) (map[string]string, error) {
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		switch {
		case from.SecretRef != nil:
			s, err := k.secret(from.SecretRef.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && from.SecretRef.Optional != nil && *from.SecretRef.Optional {
					continue
				}
				return nil, err
			}
			for key, v := range s.Data {
				env[from.Prefix+key] = string(v)
			}
		case from.ConfigMapRef != nil:
			cm, err := k.configMap(from.ConfigMapRef.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && from.ConfigMapRef.Optional != nil && *from.ConfigMapRef.Optional {
					continue
				}
				return nil, err
			}
			for key, v := range cm.Data {
				env[from.Prefix+key] = v
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
			continue
		}
		v, ok, err := k.valueFrom(e.ValueFrom)
		if err != nil {
			return nil, err
		}
		if ok {
			env[e.Name] = v
		}
	}
	return env, nil
}

// valueFrom resolves one env source; ok is false when an optional source is
// missing, and the variable is then not set at all.
func (k *kubelet) valueFrom(src *corev1.EnvVarSource) (value string, ok bool, err error) {
	switch {
	case src.SecretKeyRef != nil:
		ref := src.SecretKeyRef
		optional := ref.Optional != nil && *ref.Optional
		s, err := k.secret(ref.Name)
		if err != nil {
			if apierrors.IsNotFound(err) && optional {
				return "", false, nil
			}
			return "", false, err
		}
		v, found := s.Data[ref.Key]
		if !found {
			if optional {
				return "", false, nil
			}
			return "", false, fmt.Errorf("couldn't find key %v in Secret %v/%v", ref.Key, k.pod.Namespace, ref.Name)
		}
		return string(v), true, nil
	case src.ConfigMapKeyRef != nil:
		ref := src.ConfigMapKeyRef
		optional := ref.Optional != nil && *ref.Optional
		cm, err := k.configMap(ref.Name)
		if err != nil {
			if apierrors.IsNotFound(err) && optional {
				return "", false, nil
			}
			return "", false, err
		}
		v, found := cm.Data[ref.Key]
		if !found {
			if optional {
				return "", false, nil
			}
			return "", false, fmt.Errorf("couldn't find key %v in ConfigMap %v/%v", ref.Key, k.pod.Namespace, ref.Name)
		}
		return v, true, nil
	case src.FieldRef != nil:
		return fieldValue(k.pod, src.FieldRef.FieldPath)
	}
	return "", false, nil
}

// fieldValue resolves the downward-API fields a runner pod could use; the rest
// are left unset rather than guessed.
func fieldValue(pod *corev1.Pod, path string) (string, bool, error) {
	switch path {
	case "metadata.name":
		return pod.Name, true, nil
	case "metadata.namespace":
		return pod.Namespace, true, nil
	case "metadata.uid":
		return string(pod.UID), true, nil
	case "spec.nodeName":
		return pod.Spec.NodeName, true, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, true, nil
	}
	return "", false, nil
}

func volume(pod *corev1.Pod, name string) *corev1.Volume {
	for i := range pod.Spec.Volumes {
		if pod.Spec.Volumes[i].Name == name {
			return &pod.Spec.Volumes[i]
		}
	}
	return nil
}
