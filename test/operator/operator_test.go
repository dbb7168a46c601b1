package operator_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// auditPolicy records every list and watch, with the request URI (and so its
// selectors) and the user agent, which tells the operator's requests apart.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [list, watch]
`

// suite is what the parts of TestOperator share: one control plane (each start
// costs seconds), the webhook in front of it and one running operator.
type suite struct {
	env      *testenv.Env
	auditLog string
	webhook  *webhookServer
	kubelet  kubelet
	mgr      ctrl.Manager
}

// TestOperator runs the operator with this repository's webhook installed:
// session lifecycle, admission of its pods, project provisioning, and finally the
// API server's own record of what the operator watched.
func TestOperator(t *testing.T) {
	dumpLogsOnFailure(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "audit-policy.yaml")
	require.NoError(t, os.WriteFile(policy, []byte(auditPolicy), 0o600))
	auditLog := filepath.Join(dir, "audit.log")
	env := testenv.Start(t, testenv.Options{APIServerArgs: map[string][]string{
		"audit-policy-file": {policy},
		"audit-log-path":    {auditLog},
	}})

	s := &suite{env: env, auditLog: auditLog, kubelet: kubelet{c: env.Client}}
	s.webhook = installWebhook(t, env)
	s.mgr, _ = startOperator(t, env.Config, manager.Options{MaxConcurrentReconciles: 4})

	t.Run("Lifecycle", s.lifecycle)
	t.Run("PodsPassAdmissionUnchanged", s.admission)
	t.Run("Projects", s.projects)
	// Last: it reads what the parts above made the operator do.
	t.Run("CacheScope", s.cacheScope)
}
