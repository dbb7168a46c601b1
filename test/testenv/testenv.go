// Package testenv starts a real control plane (etcd + kube-apiserver v1.37.2 built by
// `make controlplane`) for the integration tests, with this project's CRDs installed,
// and runs the real kubectl against it.
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// ControlPlane is a running etcd + kube-apiserver with this project's CRDs. It is
// the one way the test suites and the scale benchmark start a control plane;
// Start wraps it for a test.
type ControlPlane struct {
	// Config is an admin (system:masters) client configuration.
	Config *rest.Config
	// Kubeconfig is the path of an admin kubeconfig for kubectl and child processes.
	Kubeconfig string
	// Scheme knows client-go's types and vteam.ambient-code/v1alpha1.
	Scheme *runtime.Scheme
	// BinDir holds kube-apiserver, etcd and kubectl.
	BinDir string

	env *envtest.Environment
	dir string
}

// Env is a running control plane for one test.
type Env struct {
	*ControlPlane
	// Client is a controller-runtime client for core types and ours.
	Client client.Client
	// Root is the repository root.
	Root string
}

// Options adjust the control plane.
type Options struct {
	// CRDPaths default to the repository's config/crd/bases (Start only).
	CRDPaths []string
	// APIServerArgs are extra kube-apiserver flags (name -> values).
	APIServerArgs map[string][]string
}

// AdminUser is the username of ControlPlane.Config. The suites run the operator
// in-process with that configuration, so it is also the operator's identity, the
// one the webhook's runner-creator rules must let through.
const AdminUser = "admin"

// StartControlPlane starts etcd and kube-apiserver from binDir with the CRDs of
// opts.CRDPaths installed and established. Stop stops them.
func StartControlPlane(binDir string, opts Options) (*ControlPlane, error) {
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(binDir, name)); err != nil {
			return nil, fmt.Errorf("control plane binary %s missing in %s (run `make controlplane`): %w", name, binDir, err)
		}
	}
	scheme := NewScheme()
	env := &envtest.Environment{
		BinaryAssetsDirectory: binDir,
		CRDDirectoryPaths:     opts.CRDPaths,
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	apiServer := env.ControlPlane.GetAPIServer()
	for name, values := range opts.APIServerArgs {
		apiServer.Configure().Set(name, values...)
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting control plane from %s: %w", binDir, err)
	}
	cp := &ControlPlane{Config: cfg, Scheme: scheme, BinDir: binDir, env: env}
	if cp.dir, err = os.MkdirTemp("", "agentic-controlplane-"); err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("creating the kubeconfig directory: %w", err)
	}
	if err := cp.writeKubeconfig(); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	return cp, nil
}

// Stop stops the control plane and removes its files.
func (c *ControlPlane) Stop() error {
	err := c.env.Stop()
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
	return err
}

func (c *ControlPlane) writeKubeconfig() error {
	user, err := c.env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("adding admin user: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("rendering kubeconfig: %w", err)
	}
	c.Kubeconfig = filepath.Join(c.dir, "kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, data, 0o600); err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	return nil
}

// Start starts etcd and kube-apiserver for t and stops them when t ends.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	root := RepoRoot(t)
	assets := BinDir(t)
	if len(opts.CRDPaths) == 0 {
		opts.CRDPaths = []string{filepath.Join(root, "config", "crd", "bases")}
	}
	cp, err := StartControlPlane(assets, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			t.Logf("stopping control plane: %v", err)
		}
	})
	c, err := client.New(cp.Config, client.Options{Scheme: cp.Scheme})
	if err != nil {
		t.Fatalf("building client: %v", err)
	}
	return &Env{ControlPlane: cp, Client: c, Root: root}
}

// NewScheme returns a scheme with client-go's types and vteam.ambient-code/v1alpha1.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// Kubectl runs the built kubectl against the control plane with stdin (may be nil) and
// returns stdout, stderr and the error of the run.
func (e *Env) Kubectl(ctx context.Context, stdin []byte, args ...string) (string, string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(e.BinDir, "kubectl"),
		append([]string{"--kubeconfig", e.Kubeconfig}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("kubectl %v: %w: %s", args, err, stderr.String())
	}
	return stdout.String(), stderr.String(), err
}

// CreateNamespace creates a namespace with labels (nil for none) and, because envtest
// runs no controller-manager, its default ServiceAccount.
func (e *Env) CreateNamespace(t testing.TB, name string, labels map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := e.Client.Create(ctx, ns); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: name}}
	if err := e.Client.Create(ctx, sa); err != nil {
		t.Fatalf("creating default service account in %s: %v", name, err)
	}
	// A platform project holds its runners' API keys; without them (and Vertex
	// off) a session waits in Pending. Unmanaged namespaces get them too, since
	// tests label namespaces managed later.
	keys := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: RunnerSecretsName, Namespace: name},
		StringData: map[string]string{"ANTHROPIC_API_KEY": "sk-test-" + name}}
	if err := e.Client.Create(ctx, keys); err != nil {
		t.Fatalf("creating Secret %s in %s: %v", RunnerSecretsName, name, err)
	}
}

// RunnerSecretsName is the project Secret of runner API keys CreateNamespace
// gives every namespace.
const RunnerSecretsName = "ambient-runner-secrets"
