// Package integration tests the webhook as config/ installs it, on a real
// kube-apiserver and etcd (test/testenv) driven by the real kubectl: cert-manager
// wiring with cert-manager's own cainjector, transparent enforcement of every
// write, and the behaviour while the webhook is down. The tests live in
// _test.go files; this package has no other code.
package integration
