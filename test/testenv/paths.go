package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot is the directory holding the product's go.mod, found from the working
// directory of the test.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "Makefile")); err == nil {
				return dir
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no repository root above the working directory")
		}
		dir = parent
	}
}

// BinDir is where kube-apiserver, etcd and kubectl live: $KUBEBUILDER_ASSETS (the
// Makefile sets it) or the repository's bin/. Tests skip, saying how to build them,
// when they are missing; `make test` always builds them first.
func BinDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "bin")
	}
	for _, name := range []string{"kube-apiserver", "etcd", "kubectl"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Skipf("control plane binary %s missing in %s: run `make controlplane` (make test does)", name, dir)
		}
	}
	return dir
}

// SharedDir is ../shared beside the repository, present on developer machines and in
// CI but not in a user's clone; tests that read it skip when it is absent.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), "..", "shared")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("../shared is absent (%v): it exists only beside the project on developer machines and CI", err)
	}
	return dir
}
