package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/ambient-code/agentic-operator/certs"
)

// adminUser is the user's identity on the local cluster (the kubeconfig it
// prints); the operator runs as its own ServiceAccount.
const adminUser = "admin"

// certValidity outlives any local session; the CA is thrown away on exit.
const certValidity = 7 * 24 * time.Hour

// startEtcd starts a single-member etcd on localhost. fsync is off: the data
// is deleted on exit anyway.
func (r *localRun) startEtcd() error {
	client := "http://127.0.0.1:" + strconv.Itoa(r.cfg.ports.Etcd)
	peer := "http://127.0.0.1:" + strconv.Itoa(r.cfg.ports.EtcdPeer)
	args := []string{
		"--name=local",
		"--data-dir=" + r.path("etcd"),
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=local=" + peer,
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	}
	return r.start("etcd", filepath.Join(r.cfg.binDir, "etcd"), args, nil)
}

// startAPIServer starts kube-apiserver with a serving certificate from a
// throwaway CA, a static admin token and a service-account signing key.
func (r *localRun) startAPIServer() error {
	dir := r.path("certs", "apiserver")
	ca, _, err := certs.GenerateDir(dir, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, certValidity)
	if err != nil {
		return fmt.Errorf("apiserver certificate: %w", err)
	}
	saKey := filepath.Join(dir, "service-account.key")
	if err := writeECKey(saKey); err != nil {
		return err
	}
	token, err := randomToken()
	if err != nil {
		return err
	}
	tokens := filepath.Join(dir, "tokens.csv")
	// token,user,uid,"group": the one admin of this throwaway cluster.
	if err := os.WriteFile(tokens, []byte(token+","+adminUser+","+adminUser+",system:masters\n"), 0o600); err != nil {
		return fmt.Errorf("writing the token file: %w", err)
	}

	host := "https://127.0.0.1:" + strconv.Itoa(r.cfg.ports.APIServer)
	args := []string{
		"--etcd-servers=http://127.0.0.1:" + strconv.Itoa(r.cfg.ports.Etcd),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		// The endpoint reconciler refuses a loopback address; nothing here
		// needs the kubernetes Service's endpoints.
		"--endpoint-reconciler-type=none",
		"--secure-port=" + strconv.Itoa(r.cfg.ports.APIServer),
		"--cert-dir=" + dir,
		"--tls-cert-file=" + filepath.Join(dir, certs.CertFile),
		"--tls-private-key-file=" + filepath.Join(dir, certs.KeyFile),
		"--token-auth-file=" + tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=" + host,
		"--service-account-key-file=" + saKey,
		"--service-account-signing-key-file=" + saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--allow-privileged=true",
	}
	if err := r.start("kube-apiserver", filepath.Join(r.cfg.binDir, "kube-apiserver"), args, nil); err != nil {
		return err
	}
	r.rest = &rest.Config{Host: host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: ca.CertPEM}}
	return nil
}

// waitAPIServer polls /readyz until the API server (and through it etcd)
// answers ok, failing early when either process exits.
func (r *localRun) waitAPIServer(ctx context.Context) error {
	hc, err := rest.HTTPClientFor(r.rest)
	if err != nil {
		return fmt.Errorf("apiserver client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	return r.poll(ctx, "kube-apiserver /readyz", func() bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.rest.Host+"/readyz", nil)
		if err != nil {
			return false
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// writeKubeconfig writes the admin kubeconfig kubectl, the operator and the
// user share.
func (r *localRun) writeKubeconfig() error {
	const name = "agentic-local"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: r.rest.Host, CertificateAuthorityData: r.rest.CAData}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: r.rest.BearerToken}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: demoNamespace}
	cfg.CurrentContext = name
	if err := clientcmd.WriteToFile(*cfg, r.kubeconfig()); err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	return nil
}

func (r *localRun) kubeconfig() string { return r.path("kubeconfig") }

// writeECKey writes a P-256 key in SEC 1 form, which kube-apiserver reads both
// as the signing key and as the key to verify tokens with.
func writeECKey(path string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generating the service-account key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding the service-account key: %w", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("writing the service-account key: %w", err)
	}
	return nil
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating the admin token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
