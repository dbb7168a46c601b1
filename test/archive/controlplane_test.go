package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ambient-code/agentic-operator/test/testenv"
)

// restartable is a control plane whose kube-apiserver the test can stop and
// start again while etcd keeps running, and whose etcd it can compact.
// testenv.ControlPlane does not expose its processes, so this builds the same
// control plane (same binaries, CRDs and admin user) with envtest directly.
// TODO: move Restart and Compact into testenv.
type restartable struct {
	*testenv.Env
	plane *envtest.Environment
	etcd  *url.URL
}

// startRestartable starts etcd and kube-apiserver with args for t.
func startRestartable(t *testing.T, args map[string][]string) *restartable {
	t.Helper()
	root, bin, scheme := testenv.RepoRoot(t), testenv.BinDir(t), testenv.NewScheme()
	plane := &envtest.Environment{BinaryAssetsDirectory: bin, Scheme: scheme, ErrorIfCRDPathMissing: true,
		CRDDirectoryPaths: []string{filepath.Join(root, "config", "crd", "bases")}}
	api := plane.ControlPlane.GetAPIServer()
	// A directory of our own survives Stop, so a restarted API server keeps its
	// serving certificate and service-account keys: clients and tokens stay valid.
	api.CertDir = t.TempDir()
	// Without its watch cache the API server's graceful stop waits for every open
	// watch (they read etcd directly); past this it is killed, as in a crash.
	api.StopTimeout = stopTimeout
	for name, values := range args {
		api.Configure().Set(name, values...)
	}
	cfg, err := plane.Start()
	require.NoError(t, err, "starting the control plane")
	t.Cleanup(func() {
		if err := plane.Stop(); err != nil {
			t.Logf("stopping the control plane: %v", err)
		}
	})
	user, err := plane.AddUser(envtest.User{Name: testenv.AdminUser, Groups: []string{"system:masters"}}, nil)
	require.NoError(t, err)
	kubeconfig, err := user.KubeConfig()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, kubeconfig, 0o600))
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	require.NoError(t, err)
	cp := &testenv.ControlPlane{Config: cfg, Kubeconfig: path, Scheme: scheme, BinDir: bin}
	return &restartable{Env: &testenv.Env{ControlPlane: cp, Client: c, Root: root}, plane: plane,
		etcd: plane.ControlPlane.Etcd.URL}
}

// stopTimeout bounds a graceful stop of kube-apiserver.
const stopTimeout = 5 * time.Second

// stopAPIServer stops kube-apiserver, killing it if it is not gone within
// stopTimeout; etcd keeps running.
func (r *restartable) stopAPIServer(t *testing.T) {
	t.Helper()
	start := time.Now()
	err := r.plane.ControlPlane.APIServer.Stop()
	if err != nil && strings.Contains(err.Error(), "timeout waiting for process") {
		t.Logf("kube-apiserver killed after %s without stopping", stopTimeout)
		return
	}
	require.NoError(t, err, "stopping kube-apiserver")
	t.Logf("kube-apiserver stopped in %s", time.Since(start).Round(time.Millisecond))
}

// startAPIServer starts kube-apiserver again, on the same port and
// certificates, and returns once it is healthy.
func (r *restartable) startAPIServer(t *testing.T) {
	t.Helper()
	require.NoError(t, r.plane.ControlPlane.APIServer.Start(), "starting kube-apiserver again")
}

// compact compacts etcd's history up to its current revision, physically, as
// the API server's compactor does every 5 minutes: a watch from any older
// resourceVersion then gets 410. It returns the revision.
func (r *restartable) compact(t *testing.T) int64 {
	t.Helper()
	var rng struct {
		Header struct {
			Revision string `json:"revision"`
		} `json:"header"`
	}
	// etcd's JSON gateway; the key is "/" base64-encoded, any key gives the header.
	r.etcdCall(t, "/v3/kv/range", map[string]any{"key": "Lw==", "count_only": true}, &rng)
	rev, err := strconv.ParseInt(rng.Header.Revision, 10, 64)
	require.NoError(t, err, "etcd revision %q", rng.Header.Revision)
	r.etcdCall(t, "/v3/kv/compaction", map[string]any{"revision": strconv.FormatInt(rev, 10), "physical": true}, nil)
	return rev
}

func (r *restartable) etcdCall(t *testing.T, path string, body map[string]any, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.etcd.JoinPath(path).String(), bytes.NewReader(b))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "etcd %s", path)
	defer resp.Body.Close()
	var raw bytes.Buffer
	_, _ = raw.ReadFrom(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "etcd %s: %s", path, raw.String())
	if out != nil {
		require.NoError(t, json.Unmarshal(raw.Bytes(), out), fmt.Sprintf("etcd %s: %s", path, raw.String()))
	}
}
