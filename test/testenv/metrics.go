package testenv

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ServiceAccountToken creates the ServiceAccount ns/name (ns must exist) and
// returns an hour's token for it from the TokenRequest API: what a pod running
// as it, Prometheus say, would present.
func (e *Env) ServiceAccountToken(t testing.TB, ns, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := e.Client.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating ServiceAccount %s/%s: %v", ns, name, err)
	}
	tr := &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
	if err := e.Client.SubResource("token").Create(ctx, sa, tr); err != nil {
		t.Fatalf("requesting a token for %s/%s: %v", ns, name, err)
	}
	if tr.Status.Token == "" {
		t.Fatalf("TokenRequest for %s/%s returned no token", ns, name)
	}
	return tr.Status.Token
}

// ServiceAccountKubeconfig writes a kubeconfig that acts as ServiceAccount
// ns/name (created if missing) with a TokenRequest token, for a child process
// that must run with a ServiceAccount's rights rather than the admin's.
func (e *Env) ServiceAccountKubeconfig(t testing.TB, ns, name string) string {
	t.Helper()
	token := e.ServiceAccountToken(t, ns, name)
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["envtest"] = &clientcmdapi.Cluster{Server: e.Config.Host, CertificateAuthorityData: e.Config.CAData}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["default"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: name}
	cfg.CurrentContext = "default"
	path := filepath.Join(t.TempDir(), name+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatalf("writing the kubeconfig of %s/%s: %v", ns, name, err)
	}
	return path
}

// BindClusterRole binds ServiceAccount ns/name to the ClusterRole role.
func (e *Env) BindClusterRole(t testing.TB, role, ns, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%s-%s", role, ns, name)},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}}}
	if err := e.Client.Create(ctx, b); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("binding %s/%s to %s: %v", ns, name, role, err)
	}
	cr := &rbacv1.ClusterRole{}
	if err := e.Client.Get(ctx, client.ObjectKey{Name: role}, cr); err != nil {
		t.Fatalf("reading ClusterRole %s: %v", role, err)
	}
	if spec, ok := firstGrant(cr.Rules); ok {
		e.WaitAllowed(t, "system:serviceaccount:"+ns+":"+name,
			[]string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}, spec)
	}
}

// GetMetrics GETs url with token as a bearer token (none when empty) and returns
// the status code and body. The programs serve a self-signed certificate, as
// in a cluster, so the certificate is not verified: what is under test is who
// may read, not which server answers.
func GetMetrics(t testing.TB, url, token string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("building GET %s: %v", url, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed by design
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// MetricsAuth is what CheckMetricsNeedAReader checks of one program.
type MetricsAuth struct {
	// MetricsAddr is the HTTPS /metrics listener, ProbeAddr the plain probes.
	MetricsAddr, ProbeAddr string
	// ReaderToken is bound to the metrics-reader role, StrangerToken (of
	// StrangerUser) is not.
	ReaderToken, StrangerToken, StrangerUser string
	// Metrics are names the served scrape must hold; NotServed is a prefix no
	// refused answer may show.
	Metrics   []string
	NotServed string
}

// CheckMetricsNeedAReader checks a program serves /metrics only to a token
// allowed GET /metrics: no token or a forged one 401, a token without the role
// 403, the reader served; plain HTTP to the metrics port 400; probes plain HTTP
// without a token.
func CheckMetricsNeedAReader(t *testing.T, m MetricsAuth) {
	url := "https://" + m.MetricsAddr + "/metrics"
	Eventually(t, time.Minute, "metrics listening", func(context.Context) error {
		c, err := net.DialTimeout("tcp", m.MetricsAddr, time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err
	})
	t.Run("refused without a token", func(t *testing.T) {
		if code, _ := GetMetrics(t, url, ""); code != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", code)
		}
	})
	t.Run("refused with a token the API server did not issue", func(t *testing.T) {
		if code, _ := GetMetrics(t, url, "forged"); code != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", code)
		}
	})
	t.Run("refused with a token lacking the metrics-reader role", func(t *testing.T) {
		code, body := GetMetrics(t, url, m.StrangerToken)
		if code != http.StatusForbidden {
			t.Errorf("status %d, want 403", code)
		}
		if !strings.Contains(body, m.StrangerUser) {
			t.Errorf("the refusal does not name %s: %.300s", m.StrangerUser, body)
		}
		if strings.Contains(body, m.NotServed) {
			t.Errorf("a refusal shows metrics: %.300s", body)
		}
	})
	t.Run("served to the metrics reader", func(t *testing.T) {
		code, body := GetMetrics(t, url, m.ReaderToken)
		if code != http.StatusOK {
			t.Fatalf("status %d, want 200: %.300s", code, body)
		}
		for _, name := range m.Metrics {
			if !strings.Contains(body, "\n"+name) {
				t.Errorf("the scrape has no %s", name)
			}
		}
	})
	t.Run("not served over plain HTTP", func(t *testing.T) {
		resp, err := http.Get("http://" + url[len("https://"):])
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400: an HTTPS port answers plain HTTP with 400", resp.StatusCode)
		}
	})
	t.Run("probes stay plain HTTP without a token", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz"} {
			resp, err := http.Get("http://" + m.ProbeAddr + path)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: status %d, want 200", path, resp.StatusCode)
			}
		}
	})
}
