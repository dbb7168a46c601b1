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
// Makefile sets it) or the repository's bin/. Where KUBEBUILDER_ASSETS is set, as
// under `make test`, a missing binary fails the test: a suite that needs the
// control plane must never pass by skipping. Without it (a bare `go test`), the
// test skips and says how to build them.
func BinDir(t testing.TB) string {
	t.Helper()
	dir, required := os.LookupEnv("KUBEBUILDER_ASSETS")
	if !required {
		dir = filepath.Join(RepoRoot(t), "bin")
	}
	for _, name := range []string{"kube-apiserver", "etcd", "kubectl"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			if required {
				t.Fatalf("control plane binary %s missing in KUBEBUILDER_ASSETS=%s: run `make controlplane`", name, dir)
			}
			t.Skipf("control plane binary %s missing in %s: run `make controlplane`, or `make test`, which builds it", name, dir)
		}
	}
	return dir
}
