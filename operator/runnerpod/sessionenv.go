package runnerpod

import (
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// withSessionEnv appends the registry's and the session's environment to a
// container's operator env, which is kept first and in contract order.
//
//   - Registry entries (container.env, §1.4) come next, sorted by name, only
//     for names the operator env does not hold (as on the platform).
//   - spec.environmentVariables come last, sorted by name (the platform's map
//     order is random). A name reserved in this container is dropped (see
//     reserved.go); a registry entry of the same name takes the user's value
//     in place, as the platform's runner container does, so a session's
//     RUNNER_STATE_DIR agrees with the state mount everywhere (§3.1). The
//     platform lets registry env win in state-sync; we apply one rule to every
//     container.
func withSessionEnv(container string, operator, registry []corev1.EnvVar, user map[string]string) []corev1.EnvVar {
	env := slices.Clone(operator)
	index := make(map[string]int, len(env))
	for i, e := range env {
		index[e.Name] = i
	}
	fromRegistry := make(map[string]bool)
	for _, e := range sortedByName(registry) {
		if _, set := index[e.Name]; set {
			continue
		}
		index[e.Name] = len(env)
		fromRegistry[e.Name] = true
		env = append(env, *e.DeepCopy())
	}
	for _, name := range slices.Sorted(maps.Keys(user)) {
		if IsReservedIn(container, name) {
			continue
		}
		i, set := index[name]
		switch {
		case !set:
			index[name] = len(env)
			env = append(env, corev1.EnvVar{Name: name, Value: user[name]})
		case fromRegistry[name] && env[i].ValueFrom == nil:
			env[i].Value = user[name]
		}
	}
	return env
}

func sortedByName(env []corev1.EnvVar) []corev1.EnvVar {
	return slices.SortedStableFunc(slices.Values(env), func(a, b corev1.EnvVar) int {
		return strings.Compare(a.Name, b.Name)
	})
}

// plain is an env entry with a literal value.
func plain(name, value string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: value} }

// fromSecret is an env entry read from key of Secret secret.
func fromSecret(name, secret, key string, optional bool) corev1.EnvVar {
	ref := &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret},
		Key:                  key,
	}
	if optional {
		ref.Optional = &optional
	}
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: ref}}
}

// appendIfNotBlank appends name=value when value has non-space characters,
// keeping value as written (contract §3.4, §3.5 #42).
func appendIfNotBlank(env []corev1.EnvVar, name, value string) []corev1.EnvVar {
	if strings.TrimSpace(value) == "" {
		return env
	}
	return append(env, plain(name, value))
}
