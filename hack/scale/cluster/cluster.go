// Package cluster starts the benchmark's control plane with the product's harness
// (test/testenv) and builds fast clients for it.
package cluster

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/test/testenv"
)

// Cluster is a running control plane: the product's test harness, with client-side
// rate limits lifted on its admin configuration.
type Cluster struct {
	*testenv.ControlPlane
}

// Start runs etcd and kube-apiserver from binDir with the CRDs in crdDir installed.
func Start(binDir, crdDir string) (*Cluster, error) {
	cp, err := testenv.StartControlPlane(binDir, testenv.Options{
		CRDPaths: []string{crdDir},
		// The loader and the churn writers are the only clients; give them room.
		APIServerArgs: map[string][]string{
			"max-requests-inflight":          {"800"},
			"max-mutating-requests-inflight": {"400"},
			// Every active session has a ClusterIP Service; envtest's default range
			// (a /24) is full after ~250 of them.
			"service-cluster-ip-range": {"10.0.0.0/16"},
		},
	})
	if err != nil {
		return nil, err
	}
	cp.Config = Fast(cp.Config)
	return &Cluster{ControlPlane: cp}, nil
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
