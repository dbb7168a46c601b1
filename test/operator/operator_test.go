package operator_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/operator/runner"
	"github.com/ambient-code/agentic-operator/operator/runner/runnertest"
	"github.com/ambient-code/agentic-operator/operator/session"
	"github.com/ambient-code/agentic-operator/test/identity"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// suite is what the parts of TestOperator share: one control plane (each start
// costs seconds), the webhook in front of it and one running operator.
type suite struct {
	env      *testenv.Env
	auditLog string
	webhook  *webhookServer
	operator *identity.Operator
	runner   *runnertest.Server
	kubelet  kubelet
	mgr      ctrl.Manager
	// metricsAddr and probeAddr are the operator's HTTPS /metrics and plain
	// HTTP probes (MetricsNeedAReader).
	metricsAddr, probeAddr string
}

// TestOperator runs the operator with this repository's webhook installed, as a
// cluster runs it: under its ServiceAccount with the shipped roles, elected
// leader, on an API server that enforces ownerReference permissions. Session
// lifecycle, admission of its pods, project provisioning, and finally the API
// server's own record of what the operator watched and which verbs it used.
func TestOperator(t *testing.T) {
	dumpLogsOnFailure(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "audit-policy.yaml")
	require.NoError(t, os.WriteFile(policy, []byte(identity.AuditPolicy), 0o600))
	auditLog := filepath.Join(dir, "audit.log")
	env := testenv.Start(t, testenv.Options{APIServerArgs: map[string][]string{
		"audit-policy-file": {policy},
		"audit-log-path":    {auditLog},
		// Creating an object with blockOwnerDeletion then needs update on the
		// owner's finalizers, as on clusters that enable it (OpenShift does).
		"enable-admission-plugins": {"OwnerReferencesPermissionEnforcement"},
	}})

	s := &suite{env: env, auditLog: auditLog, kubelet: kubelet{c: env.Client}}
	s.operator = identity.Shipped(t, env)
	s.webhook = installWebhook(t, env, s.operator)
	s.runner = runnertest.New(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	s.metricsAddr, s.probeAddr = freeAddr(t), freeAddr(t)
	// Langfuse on, so that the platform Secret copies are exercised (DropIn).
	platform := testenv.PlatformConfig()
	platform.LangfuseEnabled = true
	s.mgr, _ = startOperator(t, s.operator.Config(env.Config), manager.Options{MaxConcurrentReconciles: 4,
		Runner:         session.RunnerConfig{Platform: platform},
		LeaderElection: true, LeaderElectionNamespace: s.operator.Namespace,
		MetricsBindAddress: s.metricsAddr, HealthProbeBindAddress: s.probeAddr,
		RunnerClient: runner.Options{URLTemplate: s.runner.URLTemplate()}})

	t.Run("Lifecycle", s.lifecycle)
	t.Run("PodsPassAdmissionUnchanged", s.admission)
	t.Run("Projects", s.projects)
	t.Run("RunnerSync", s.runnerSync)
	t.Run("DriftRepaired", s.driftRepaired)
	t.Run("RunnerCannotRun", s.runnerCannotRun)
	t.Run("DropIn", s.dropIn)
	t.Run("WaitsForRunnerSecrets", s.waitsForRunnerSecrets)
	t.Run("MetricsNeedAReader", s.metricsNeedAReader)
	// Last: they read what the parts above made the operator do.
	t.Run("CacheScope", s.cacheScope)
	t.Run("RolesMatchWhatIsUsed", s.rolesMatchUse)
}
