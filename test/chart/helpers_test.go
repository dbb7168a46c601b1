package chart

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// releaseNamespace is config/default's namespace; the chart is rendered into it.
const releaseNamespace = "ambient-code-system"

// binary returns bin/<name> (or $KUBEBUILDER_ASSETS/<name>). Where make test runs
// (KUBEBUILDER_ASSETS set) a missing binary is a failure naming the make target;
// in a bare `go test` it skips with the same hint.
func binary(t *testing.T, name, target string) string {
	t.Helper()
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	strict := dir != ""
	if dir == "" {
		dir = filepath.Join(testenv.RepoRoot(t), "bin")
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err != nil {
		if strict {
			t.Fatalf("%s is missing in %s: run `make %s` (make test does)", name, dir, target)
		}
		t.Skipf("%s is missing in %s: run `make %s`", name, dir, target)
	}
	return path
}

func chartDir(t *testing.T) string {
	return filepath.Join(testenv.RepoRoot(t), "charts", "agentic-operator")
}

func run(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(bin), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// helmTemplate renders the chart as release "agentic-operator" in
// releaseNamespace with the given --set values.
func helmTemplate(t *testing.T, set ...string) []*unstructured.Unstructured {
	t.Helper()
	return helmTemplateIn(t, releaseNamespace, set...)
}

// helmTemplateIn renders the chart as release "agentic-operator" in namespace
// with the given --set values.
func helmTemplateIn(t *testing.T, namespace string, set ...string) []*unstructured.Unstructured {
	t.Helper()
	args := []string{"template", "agentic-operator", chartDir(t), "--namespace", namespace}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out := run(t, testenv.RepoRoot(t), binary(t, "helm", "tools"), args...)
	objs, err := manifests.Decode([]byte(out))
	if err != nil {
		t.Fatalf("decoding helm template output: %v", err)
	}
	return objs
}

// kustomize builds a kustomization directory with bin/kubectl.
func kustomize(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	objs, err := manifests.Build(ctx, filepath.Join(testenv.BinDir(t), "kubectl"), dir)
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v", dir, err)
	}
	return objs
}

// key names an object the way the comparison matches them.
func key(o *unstructured.Unstructured) string {
	gvk := o.GroupVersionKind()
	return fmt.Sprintf("%s/%s %s/%s", gvk.Group, gvk.Kind, o.GetNamespace(), o.GetName())
}

func byKey(t *testing.T, objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	t.Helper()
	m := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		k := key(o)
		if _, dup := m[k]; dup {
			t.Fatalf("%s rendered twice", k)
		}
		m[k] = o
	}
	return m
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
