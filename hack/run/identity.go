package main

import (
	"context"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/test/identity"
)

// operatorTokenLifetime covers any local run; the token dies with the cluster.
const operatorTokenLifetime = 24 * time.Hour

// grantOperator gives the operator what config/default gives it on a cluster:
// its namespace, ServiceAccount, ClusterRole, Lease Role and metrics-auth
// bindings. The operator then runs as that ServiceAccount, so a verb the
// shipped roles lack fails here as it would there.
func (r *localRun) grantOperator(ctx context.Context) error {
	op, err := identity.FromManifests(ctx, r.kubectl(), r.cfg.root)
	if err != nil {
		return err
	}
	if err := op.Grant(ctx, r.client); err != nil {
		return err
	}
	r.operator = op
	return nil
}

// writeOperatorKubeconfig writes a kubeconfig with a token of the operator's
// ServiceAccount, minted by the API server (TokenRequest), as a projected token
// would give the operator's pod.
func (r *localRun) writeOperatorKubeconfig(ctx context.Context) error {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: r.operator.Namespace, Name: r.operator.ServiceAccount}}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: ptr.To(int64(operatorTokenLifetime.Seconds()))}}
	if err := r.client.SubResource("token").Create(ctx, sa, req); err != nil {
		return fmt.Errorf("minting a token for ServiceAccount %s/%s: %w", sa.Namespace, sa.Name, err)
	}
	const name = "agentic-local-operator"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: r.rest.Host, CertificateAuthorityData: r.rest.CAData}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: req.Status.Token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	if err := clientcmd.WriteToFile(*cfg, r.operatorKubeconfig()); err != nil {
		return fmt.Errorf("writing the operator's kubeconfig: %w", err)
	}
	return nil
}

func (r *localRun) operatorKubeconfig() string { return r.path("operator.kubeconfig") }
