// Package runnerpod builds a session's runner pod the way the platform's
// operator builds it (runner-contract §3), so the platform's real runner and
// state-sync images run on it unchanged. Everything the pod depends on is
// resolved by the caller into Inputs first; this package reads no API and has
// no side effects, and the same Inputs always give the same pod.
//
// Deliberate differences from the platform, each explained where it is made:
//   - spec.environmentVariables never override a name the operator sets in a
//     container (reserved.go), and override registry env in every container,
//     state-sync included (sessionenv.go);
//   - registry and session env are sorted by name, not in map order (sessionenv.go);
//   - the pod runs under the restricted Pod Security profile wherever the images
//     allow it (security.go);
//   - an init container always has the workspace volume it mounts (volumes.go);
//   - the runner's postStart hook only creates the Google credentials directory
//     (runner.go).
package runnerpod
