package runnerpod

import (
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
)

// podProblems checks the rules of the API server's pod validation that this
// builder could break (k8s.io/kubernetes is not in the module graph, so its
// validation package cannot be imported): names, labels, env, ports, probes,
// volumes and mounts.
func podProblems(pod *corev1.Pod) []string {
	var out []string
	add := func(msgs []string, what string) {
		for _, m := range msgs {
			out = append(out, what+": "+m)
		}
	}
	add(validation.IsDNS1123Subdomain(pod.Name), "pod name")
	for k, v := range pod.Labels {
		add(validation.IsQualifiedName(k), "label key "+k)
		add(validation.IsValidLabelValue(v), "label value "+k)
	}
	if pod.Spec.TerminationGracePeriodSeconds != nil && *pod.Spec.TerminationGracePeriodSeconds < 0 {
		out = append(out, "negative grace period")
	}
	volumes := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		add(validation.IsDNS1123Label(v.Name), "volume "+v.Name)
		if volumes[v.Name] {
			out = append(out, "duplicate volume "+v.Name)
		}
		volumes[v.Name] = true
		if s := v.Secret; s != nil {
			for _, item := range s.Items {
				if path.IsAbs(item.Path) || strings.Contains(item.Path, "..") {
					out = append(out, "secret item path "+item.Path)
				}
			}
		}
	}
	names := map[string]bool{}
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		add(validation.IsDNS1123Label(c.Name), "container "+c.Name)
		if names[c.Name] {
			out = append(out, "duplicate container "+c.Name)
		}
		names[c.Name] = true
		if c.Image == "" {
			out = append(out, c.Name+": no image")
		}
		for _, e := range c.Env {
			add(validation.IsRelaxedEnvVarName(e.Name), c.Name+" env "+e.Name)
			if e.ValueFrom != nil && e.Value != "" {
				out = append(out, c.Name+" env "+e.Name+": value and valueFrom")
			}
			if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil && (r.SecretKeyRef.Name == "" || r.SecretKeyRef.Key == "") {
				out = append(out, c.Name+" env "+e.Name+": incomplete secretKeyRef")
			}
		}
		for _, p := range c.Ports {
			add(validation.IsValidPortNum(int(p.ContainerPort)), c.Name+" port")
			add(validation.IsValidPortName(p.Name), c.Name+" port name")
		}
		for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
			if p != nil && p.HTTPGet != nil {
				add(validation.IsValidPortNum(p.HTTPGet.Port.IntValue()), c.Name+" probe port")
			}
		}
		mountPaths := map[string]bool{}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				out = append(out, c.Name+" mounts unknown volume "+m.Name)
			}
			if !path.IsAbs(m.MountPath) || mountPaths[m.MountPath] {
				out = append(out, c.Name+" mount path "+m.MountPath)
			}
			mountPaths[m.MountPath] = true
			if path.IsAbs(m.SubPath) || strings.Contains(m.SubPath, "..") {
				out = append(out, c.Name+" subPath "+m.SubPath)
			}
		}
	}
	return out
}

func TestPodPassesValidation(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Inputs)
	}{
		{name: "shipped entry", modify: func(*Inputs) {}},
		{name: "everything on", modify: func(in *Inputs) {
			in.Config = vertexConfig(in.Config)
			in.Config.PodFSGroup = ptr.To[int64](0)
			in.VertexSecretCopied, in.TrustedCABundle, in.IntegrationsSecret = true, true, true
			in.LangfuseSecretCopied, in.MLflowSecretCopied, in.MLflowKubernetesAuth, in.Resume = true, true, true, true
			in.Session.Spec.EnvironmentVariables = map[string]string{"a:b": "x", "1ST": "y"}
		}},
		{name: "runner only", modify: func(in *Inputs) {
			in.Runtime.Persistent, in.Runtime.CloneRepos, in.Runtime.HydrateState = false, false, false
		}},
		{name: "hydrate only (invalid on the platform)", modify: func(in *Inputs) {
			in.Runtime.Persistent, in.Runtime.CloneRepos, in.Runtime.HydrateState = false, false, true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInputs()
			tt.modify(&in)
			assert.Empty(t, podProblems(Build(in)))
		})
	}
}
