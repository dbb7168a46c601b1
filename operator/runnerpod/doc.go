// Package runnerpod builds a session's runner pod the way the platform's
// operator builds it (runner-contract §3), so the platform's real runner and
// state-sync images run on it unchanged. Everything the pod depends on is
// resolved by the caller into Inputs first; this package reads no API and has
// no side effects, and the same Inputs always give the same pod.
//
// It differs from the platform on purpose in three places, each explained where
// it is implemented:
//   - spec.environmentVariables never override a name the operator sets in a
//     container (reserved.go);
//   - the pod runs under the restricted Pod Security profile wherever the images
//     allow it (security.go);
//   - an init container always has the workspace volume it mounts (volumes.go).
package runnerpod
