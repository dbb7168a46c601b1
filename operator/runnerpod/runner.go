package runnerpod

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// runnerContainerName is the main container's name; the platform's status
// inspection and mounts find the runner by it (§3.5).
const runnerContainerName = v1alpha1.RunnerContainerName

// runnerContainer is the main container ambient-code-runner (§3.5). It has no
// command: the image's CMD starts the AG-UI server.
func runnerContainer(in Inputs) corev1.Container {
	port := in.Runtime.Port
	return corev1.Container{
		Name:            runnerContainerName,
		Image:           in.Runtime.Image,
		ImagePullPolicy: in.Config.ImagePullPolicy,
		Ports: []corev1.ContainerPort{{
			Name:          v1alpha1.RunnerPortName,
			ContainerPort: port,
			Protocol:      corev1.ProtocolTCP,
		}},
		Env:            runnerEnv(in),
		EnvFrom:        runnerEnvFrom(in),
		Resources:      *in.Runtime.Resources.DeepCopy(),
		VolumeMounts:   runnerMounts(in),
		ReadinessProbe: healthProbe(port, 3, 5, 2),
		LivenessProbe:  healthProbe(port, 20, 30, 5),
		Lifecycle: &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{
			// The directory workspace-mcp writes Google credentials to. A failed
			// postStart hook kills the container, so errors are ignored (there
			// is no /workspace to write to when the pod has no workspace). The
			// platform also copies from /app/.google_workspace_mcp/credentials,
			// which nothing mounts any more (§3.5), so that step is left out.
			Command: []string{"/bin/sh", "-c", "mkdir -p " + googleMCPCredsDir + " 2>/dev/null || true"},
		}}},
		SecurityContext: runnerSecurityContext(),
	}
}

// healthProbe is an HTTP GET of /health on the runner's port; /health is the
// path the runner exempts from token authentication (§4.4, §8.1).
func healthProbe(port int32, initialDelay, period, timeout int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: healthPath,
			Port: intstr.FromInt32(port),
		}},
		InitialDelaySeconds: initialDelay,
		PeriodSeconds:       period,
		TimeoutSeconds:      timeout,
		FailureThreshold:    3,
	}
}

// runnerEnvFrom is the runner's envFrom in the platform's order (§3.5): the
// integrations Secret when it exists, then the runner Secrets (API keys) when
// Vertex is off. Neither is optional, as on the platform: a Secret deleted
// before the container starts fails the session (§5.3) instead of starting a
// runner without credentials. Explicit env wins over both.
func runnerEnvFrom(in Inputs) []corev1.EnvFromSource {
	var from []corev1.EnvFromSource
	if in.IntegrationsSecret {
		from = append(from, secretEnvFrom(integrationsSecretName))
	}
	if !in.Config.Vertex.Enabled {
		from = append(from, secretEnvFrom(runnerSecretsName))
	}
	return from
}

func secretEnvFrom(name string) corev1.EnvFromSource {
	return corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: name},
	}}
}
