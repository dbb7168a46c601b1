//go:build record

package webhook_test

import (
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	admissionregv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ambient-code/agentic-operator/webhook"
)

// TestRecordArchiveFixtures records the archive rule's requests (the
// testdata/mutate-agenticsession/archive-* cases) from a real API server driven
// by the real kubectl, with the recorder of record_test.go:
//
//	go test -tags record -run TestRecordArchiveFixtures ./webhook/
//	go test ./webhook/ -run 'TestFixtures/mutate-agenticsession/archive-' -update
func TestRecordArchiveFixtures(t *testing.T) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join("..", "bin")
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			MutatingWebhooks: []*admissionregv1.MutatingWebhookConfiguration{mutatingConfig()},
		},
	}
	cfg, err := env.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = env.Stop() })

	rec := &recorder{bodies: map[string][]byte{}}
	mux := http.NewServeMux()
	for path, h := range webhook.Routes(webhook.Options{}) {
		mux.Handle(path, rec.handler(path, h))
	}
	wio := env.WebhookInstallOptions
	cert, err := tls.LoadX509KeyPair(filepath.Join(wio.LocalServingCertDir, "tls.crt"), filepath.Join(wio.LocalServingCertDir, "tls.key"))
	require.NoError(t, err)
	ln, err := tls.Listen("tcp", net.JoinHostPort(wio.LocalServingHost, strconv.Itoa(wio.LocalServingPort)),
		&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	user, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, cfg)
	require.NoError(t, err)
	kubeconfig, err := user.KubeConfig()
	require.NoError(t, err)
	kcPath := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kcPath, kubeconfig, 0o600))

	k := &kubectl{t: t, bin: filepath.Join(assets, "kubectl"), kubeconfig: kcPath, rec: rec}
	recordArchiveSteps(k)
	for key, body := range rec.bodies {
		writeRequest(t, key, body)
	}
	t.Logf("recorded %d requests", len(rec.bodies))
}

// recordArchiveSteps drives the archive rule's cases. Seeds are permissive, so
// that states the rule would repair (an archived session with a pending restart)
// can be stored first, as a write made while the webhook was down stores them.
func recordArchiveSteps(k *kubectl) {
	k.run("", false, ok, "", "create", "namespace", ns)
	k.run("", false, ok, "", "label", "namespace", ns, "ambient-code.io/managed=true")
	seed := func(args ...string) { k.run("", true, ok, "", args...) }
	seedSession := func(name string, st map[string]any, labels ...string) {
		k.run("", true, ok, session(name, nil), "create", "-f", "-")
		if len(labels) > 0 {
			seed(append([]string{"label", "agenticsessions", name, "-n", ns}, labels...)...)
		}
		seed("patch", "agenticsessions", name, "-n", ns, "--subresource=status", "--type=merge", "-p", mustJSON(map[string]any{"status": st}))
	}
	stopped := func(cs ...map[string]any) map[string]any {
		st := conds(cs...)
		st["phase"] = "Stopped"
		return st
	}
	annotate := func(step string, name string, args ...string) {
		k.run(step, false, ok, "", append([]string{"annotate", "agenticsessions", name, "-n", ns}, args...)...)
	}
	terminal := stopped(cond("Ready", "False", "Stopped", "session stopped", at(10)), cond("PodCreated", "False", "Deleted", "", at(10)))

	// The operator's archive write: a label patch on a terminal session.
	seedSession("a1", terminal)
	k.run("archive-operator-archives", false, ok, "", "patch", "agenticsessions", "a1", "-n", ns,
		"--type=merge", "-p", `{"metadata":{"labels":{"ambient-code.io/archived":"true"}}}`)
	// A restart request on it: the label goes.
	annotate("archive-restart-request", "a1", "ambient-code.io/desired-phase=Running", "--overwrite")

	// A restart request on a session that is not archived: nothing to remove.
	seedSession("a2", terminal)
	annotate("archive-restart-request-not-archived", "a2", "ambient-code.io/desired-phase=Running", "--overwrite")

	// Any other value of the annotation keeps the session archived.
	seedSession("a3", terminal, "ambient-code.io/archived=true")
	annotate("archive-desired-phase-stopped", "a3", "ambient-code.io/desired-phase=Stopped", "--overwrite")

	// Archived with a restart already pending (requested while the webhook was
	// down): any main-resource write repairs it.
	seedSession("a4", terminal, "ambient-code.io/archived=true")
	seed("annotate", "agenticsessions", "a4", "-n", ns, "ambient-code.io/desired-phase=Running")
	k.run("archive-restart-already-pending", false, ok, "", "label", "agenticsessions", "a4", "-n", ns, "team=platform")
	// The status subresource cannot change labels: left alone.
	seedSession("a5", terminal, "ambient-code.io/archived=true")
	seed("annotate", "agenticsessions", "a5", "-n", ns, "ambient-code.io/desired-phase=Running")
	k.run("archive-status-subresource", false, ok, "", "patch", "agenticsessions", "a5", "-n", ns, "--subresource=status",
		"--type=merge", "-p", `{"status":{"phase":"Stopped"}}`)

	// Stored duplicate conditions and a restart request: one patch does both.
	seedSession("a6", stopped(cond("Ready", "True", "Running", "", at(1)), cond("ready", "False", "Stopped", "", at(9))),
		"ambient-code.io/archived=true")
	annotate("archive-restart-request-with-duplicates", "a6", "ambient-code.io/desired-phase=Running", "--overwrite")

	// A session created archived (e.g. copied from an export) is not terminal.
	k.run("archive-create-labelled", false, ok, mustJSON(map[string]any{
		"apiVersion": "vteam.ambient-code/v1alpha1", "kind": "AgenticSession",
		"metadata": map[string]any{"name": "a7", "namespace": ns, "labels": map[string]string{"ambient-code.io/archived": "true"}},
		"spec":     map[string]any{"initialPrompt": "Summarise the open issues."},
	}), "create", "-f", "-")
}
