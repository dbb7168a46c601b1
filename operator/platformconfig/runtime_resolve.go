package platformconfig

import (
	"fmt"
	"sort"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// persistenceNone is the one sandbox.persistence value that drops the
// state-sync sidecar; every other value, empty included, keeps it.
const persistenceNone = "none"

// resolveEntry applies the §1.4 defaults to one registry entry. Invalid
// values are logged with the entry's id and replaced by their defaults; it
// runs once per loaded registry version, so each is logged once.
func resolveEntry(e registryEntry, images DefaultImages, log logr.Logger) Runtime {
	log = log.WithValues("runnerType", e.ID)
	r := defaultRuntime(e.ID, images)

	if e.Container.Image != "" {
		r.Image = e.Container.Image
	}
	if e.Sandbox.StateSyncImage != "" {
		r.StateSyncImage = e.Sandbox.StateSyncImage
	}
	switch port := e.Container.Port; {
	case port > 65535:
		// The platform would build a Pod the API server rejects.
		log.Error(fmt.Errorf("port %d out of range", port), "invalid container.port in agent registry, using default", "default", DefaultRunnerPort)
	case port > 0:
		r.Port = int32(port)
	}
	r.Env = sortedEnv(e.Container.Env)
	if res := e.Container.Resources; res != nil {
		overrideQuantity(r.Resources.Requests, corev1.ResourceCPU, res.Requests, "container.resources.requests", log)
		overrideQuantity(r.Resources.Requests, corev1.ResourceMemory, res.Requests, "container.resources.requests", log)
		overrideQuantity(r.Resources.Limits, corev1.ResourceCPU, res.Limits, "container.resources.limits", log)
		overrideQuantity(r.Resources.Limits, corev1.ResourceMemory, res.Limits, "container.resources.limits", log)
	}

	if e.Sandbox.StateDir != "" {
		r.StateDir = e.Sandbox.StateDir
	}
	r.Persistent = e.Sandbox.Persistence != persistenceNone
	if size := e.Sandbox.WorkspaceSize; size != "" {
		if q, err := resource.ParseQuantity(size); err == nil {
			r.WorkspaceSize = q
		} else {
			log.Error(err, "invalid sandbox.workspaceSize in agent registry, using default", "value", size, "default", DefaultWorkspaceSize)
		}
	}
	if grace := e.Sandbox.TerminationGracePeriod; grace > 0 {
		r.TerminationGracePeriodSeconds = int64(grace)
	}
	r.CloneRepos = e.Sandbox.Seed.CloneRepos
	r.HydrateState = e.Sandbox.Seed.HydrateState
	return r
}

// overrideQuantity replaces list[name] with the registry's value for that key
// when it parses; only cpu and memory are ever looked up.
func overrideQuantity(list corev1.ResourceList, name corev1.ResourceName, values map[string]string, field string, log logr.Logger) {
	v, ok := values[string(name)]
	if !ok {
		return
	}
	q, err := resource.ParseQuantity(v)
	if err != nil {
		fallback := list[name]
		log.Error(err, "invalid quantity in agent registry, using default", "field", field+"."+string(name), "value", v, "default", fallback.String())
		return
	}
	list[name] = q
}

// sortedEnv turns container.env into env vars in name order, so the Pod
// spec is the same on every reconcile.
func sortedEnv(env map[string]string) []corev1.EnvVar {
	if len(env) == 0 {
		return nil
	}
	names := make([]string, 0, len(env))
	for name := range env {
		names = append(names, name)
	}
	sort.Strings(names)
	vars := make([]corev1.EnvVar, 0, len(names))
	for _, name := range names {
		vars = append(vars, corev1.EnvVar{Name: name, Value: env[name]})
	}
	return vars
}
