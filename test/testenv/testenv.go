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

// Env is a running control plane.
type Env struct {
	// Config is an admin (system:masters) client configuration.
	Config *rest.Config
	// Client is a controller-runtime client for core types and ours.
	Client client.Client
	// Scheme knows client-go's types and vteam.ambient-code/v1alpha1.
	Scheme *runtime.Scheme
	// Kubeconfig is the path of an admin kubeconfig for kubectl.
	Kubeconfig string
	// Root is the repository root.
	Root string

	env *envtest.Environment
}

// Options adjust the control plane.
type Options struct {
	// CRDPaths default to the repository's config/crd/bases.
	CRDPaths []string
	// APIServerArgs are extra kube-apiserver flags (name -> values).
	APIServerArgs map[string][]string
}

// Start starts etcd and kube-apiserver for t and stops them when t ends.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	root := RepoRoot(t)
	assets := BinDir(t)
	if len(opts.CRDPaths) == 0 {
		opts.CRDPaths = []string{filepath.Join(root, "config", "crd", "bases")}
	}
	scheme := NewScheme()
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
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
		t.Fatalf("starting control plane from %s: %v", assets, err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Logf("stopping control plane: %v", err)
		}
	})
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatalf("building client: %v", err)
	}
	e := &Env{Config: cfg, Client: c, Scheme: scheme, Root: root, env: env}
	e.Kubeconfig = e.writeKubeconfig(t)
	return e
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

func (e *Env) writeKubeconfig(t testing.TB) string {
	t.Helper()
	user, err := e.env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatalf("adding admin user: %v", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		t.Fatalf("rendering kubeconfig: %v", err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("writing kubeconfig: %v", err)
	}
	return path
}

// Kubectl runs the built kubectl against the control plane with stdin (may be nil) and
// returns stdout, stderr and the error of the run.
func (e *Env) Kubectl(ctx context.Context, stdin []byte, args ...string) (string, string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(e.env.BinaryAssetsDirectory, "kubectl"),
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
}
