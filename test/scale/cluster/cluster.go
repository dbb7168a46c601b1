// Package cluster starts the benchmark's control plane (etcd + kube-apiserver from
// bin/, through envtest, outside any test) and builds fast clients for it.
package cluster

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// Cluster is a running control plane.
type Cluster struct {
	// Config is an admin configuration with client-side rate limits lifted.
	Config *rest.Config
	// Kubeconfig is the path of an admin kubeconfig (for kubectl and child processes).
	Kubeconfig string
	Scheme     *runtime.Scheme
	env        *envtest.Environment
	dir        string
}

// Start runs etcd and kube-apiserver from binDir with the CRDs in crdDir installed.
func Start(binDir, crdDir string) (*Cluster, error) {
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(binDir, name)); err != nil {
			return nil, fmt.Errorf("control plane binary %s missing in %s (run `make controlplane`): %w", name, binDir, err)
		}
	}
	scheme := NewScheme()
	env := &envtest.Environment{
		BinaryAssetsDirectory: binDir,
		CRDDirectoryPaths:     []string{crdDir},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	// The loader and the churn writers are the only clients; give them room.
	env.ControlPlane.GetAPIServer().Configure().
		Set("max-requests-inflight", "800").
		Set("max-mutating-requests-inflight", "400")
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting control plane from %s: %w", binDir, err)
	}
	c := &Cluster{Config: Fast(cfg), Scheme: scheme, env: env}
	if c.dir, err = os.MkdirTemp("", "scale-cluster-"); err != nil {
		_ = env.Stop()
		return nil, err
	}
	user, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		_ = c.Stop()
		return nil, fmt.Errorf("adding admin user: %w", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		_ = c.Stop()
		return nil, fmt.Errorf("rendering kubeconfig: %w", err)
	}
	c.Kubeconfig = filepath.Join(c.dir, "kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, kc, 0o600); err != nil {
		_ = c.Stop()
		return nil, fmt.Errorf("writing kubeconfig: %w", err)
	}
	return c, nil
}

// Stop stops the control plane and removes its files.
func (c *Cluster) Stop() error {
	err := c.env.Stop()
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
	return err
}

// NewScheme knows client-go's types and vteam.ambient-code/v1alpha1.
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

// Fast copies cfg with client-side throttling lifted: the benchmark measures the
// server and the operator, not client-go's default 5 QPS. No overall timeout: it
// would cut the informers' watches.
func Fast(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 2000, 4000
	return cfg
}

// Clients are the loader's clients: protobuf for core types, JSON for the CRDs.
func Clients(cfg *rest.Config, scheme *runtime.Scheme) (kubernetes.Interface, client.Client, error) {
	pb := rest.CopyConfig(cfg)
	pb.ContentType = "application/vnd.kubernetes.protobuf"
	pb.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	core, err := kubernetes.NewForConfig(pb)
	if err != nil {
		return nil, nil, fmt.Errorf("building core client: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, nil, fmt.Errorf("building client: %w", err)
	}
	return core, c, nil
}
