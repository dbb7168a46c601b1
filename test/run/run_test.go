// Package run_test tests `make run`: started as a user would, used with the
// kubectl commands it prints, interrupted, and checked for leftovers.
package run_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ambient-code/agentic-operator/test/testenv"
)

// Starting may include building the webhook, the operator and hack/run on a
// busy machine; the waits bound a hang, they measure nothing.
const (
	startTimeout = 15 * time.Minute
	stopTimeout  = 2 * time.Minute
)

func TestMakeRunEnforcesAndLeavesNothingBehind(t *testing.T) {
	root := testenv.RepoRoot(t)
	testenv.BinDir(t)
	base := freePortBase(t)
	state := filepath.Join(t.TempDir(), "state")
	run := startRun(t, root, []string{
		"AGENTIC_RUN_DIR=" + state,
		"AGENTIC_RUN_PORT_BASE=" + strconv.Itoa(base),
	}, "make", "--no-print-directory", "run")

	run.waitForLine(t, readyLine, startTimeout)
	exports := run.linesWithPrefix("  export KUBECONFIG=")
	require.Len(t, exports, 1, "one KUBECONFIG line")
	kubeconfig := exports[0]
	assert.Equal(t, filepath.Join(state, "kubeconfig"), kubeconfig)
	env := []string{"KUBECONFIG=" + kubeconfig}

	children := descendants(readProcs(t), run.cmd.Process.Pid)
	names := programNames(children)
	for _, want := range []string{"etcd", "kube-apiserver", "webhook"} {
		require.Contains(t, names, want, "the run's processes: %v", children)
	}

	commands := run.linesWithPrefix("  $ ")
	require.GreaterOrEqual(t, len(commands), 4, "four commands that show the enforcement")

	// 1. A runner pod written without labels, sent as the operator, gets them (a
	// server-side dry run); as the admin it is refused: the operator is the one
	// runner creator.
	out, errOut, err := shell(t, root, env, commands[0])
	require.NoError(t, err, "%s\n%s", commands[0], errOut)
	for _, label := range []string{`"ambient-code.io/runner":"true"`, `"agentic-session":"by-hand"`, `"app":"ambient-code-runner"`} {
		assert.Contains(t, out, label)
	}
	asAdmin := strings.Replace(commands[0], "--as="+operatorUser+" ", "", 1)
	require.NotEqual(t, commands[0], asAdmin, "command 1 is sent --as the operator")
	_, errOut, err = shell(t, root, env, asAdmin)
	require.Error(t, err, "%s: a runner pod written by the admin", asAdmin)
	assert.Contains(t, errOut, "only the runner creators")

	// 2. Removing a runner label of the operator's runner pod is refused, and the
	// label stays.
	testenv.Eventually(t, time.Minute, "the operator's runner pod demo-runner exists", func(ctx context.Context) error {
		_, errOut, err := shell(t, root, env, "bin/kubectl -n demo get pod demo-runner")
		if err != nil {
			return fmt.Errorf("%w: %s", err, errOut)
		}
		return nil
	})
	_, errOut, err = shell(t, root, env, commands[1])
	require.Error(t, err, "%s must be refused", commands[1])
	assert.Contains(t, errOut, "ambient-code.io/runner", "the refusal names the label")
	out, errOut, err = shell(t, root, env, "bin/kubectl -n demo get pod demo-runner -o jsonpath='{.metadata.labels.ambient-code\\.io/runner}'")
	require.NoError(t, err, errOut)
	assert.Equal(t, "true", out)

	// 3. Duplicate condition types are stored once each, the newest surviving;
	// the command prints the object as its write stored it.
	out, errOut, err = shell(t, root, env, commands[2])
	require.NoError(t, err, "%s\n%s", commands[2], errOut)
	stored := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, stored, 2, "one condition per type in:\n%s", out)
	assert.True(t, strings.EqualFold(stored[0], "Ready=True (Running)"), "newest Ready survives: %q", stored[0])
	assert.Equal(t, "PodCreated=True (Created)", stored[1], "newest PodCreated survives")

	// 4. Outside managed namespaces only the admission policy sees pods, and it
	// refuses one posing as a runner.
	_, errOut, err = shell(t, root, env, commands[3])
	require.Error(t, err, "%s must be refused", commands[3])
	assert.Contains(t, errOut, "ValidatingAdmissionPolicy 'runner-pods'")
	assert.Contains(t, errOut, `"ambient-code.io/runner"="true" on a pod in namespace "unmanaged"`)
	policiesNameTheOperator(t, root, env)
	operatorRunsAsItsServiceAccount(t, root, env)

	if names["operator"] {
		sessionReachesRunning(t, root, env)
	}

	// Ctrl-C, as in a terminal: the whole foreground group gets SIGINT.
	require.NoError(t, syscall.Kill(-run.cmd.Process.Pid, syscall.SIGINT))
	err = run.waitExit(t, stopTimeout)
	var exit *exec.ExitError
	if err != nil {
		// make re-raises the interrupt after its recipe finished.
		require.ErrorAs(t, err, &exit)
		ws, _ := exit.Sys().(syscall.WaitStatus)
		require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGINT, "make run ended with %v", err)
	}
	assert.Contains(t, run.output(), "Stopped; nothing left running")

	assert.Empty(t, stillRunning(t, children), "processes of the run still running")
	assert.Empty(t, mentioning(t, state), "processes still using the run's directory")
	assert.Empty(t, listening(base, 8), "ports of the run still listening")
	assert.NoDirExists(t, state, "the run's state is removed")
}

// operatorUser is the operator's ServiceAccount as config/default names it, the
// identity make run runs the operator as.
const operatorUser = "system:serviceaccount:ambient-code-system:ambient-code-operator"

// policiesNameTheOperator checks that make run installed every policy of
// config/policies with the operator's ServiceAccount, the webhook's
// --runner-creators, as the one runner creator.
func policiesNameTheOperator(t *testing.T, root string, env []string) {
	t.Helper()
	out, errOut, err := shell(t, root, env, "bin/kubectl get validatingadmissionpolicies,validatingadmissionpolicybindings,"+
		"mutatingadmissionpolicies,mutatingadmissionpolicybindings -o name")
	require.NoError(t, err, errOut)
	assert.ElementsMatch(t, []string{
		"validatingadmissionpolicy.admissionregistration.k8s.io/runner-pods",
		"validatingadmissionpolicy.admissionregistration.k8s.io/projectsettings-group-access",
		"validatingadmissionpolicybinding.admissionregistration.k8s.io/runner-pods",
		"validatingadmissionpolicybinding.admissionregistration.k8s.io/projectsettings-group-access",
		"mutatingadmissionpolicy.admissionregistration.k8s.io/runner-pod-labels",
		"mutatingadmissionpolicybinding.admissionregistration.k8s.io/runner-pod-labels",
	}, strings.Fields(out))
	out, errOut, err = shell(t, root, env,
		`bin/kubectl get validatingadmissionpolicy runner-pods -o jsonpath='{.spec.variables[?(@.name=="creators")].expression}'`)
	require.NoError(t, err, errOut)
	assert.Equal(t, `["`+operatorUser+`"]`, out)
}

// operatorRunsAsItsServiceAccount checks that the operator's runner pods were
// created by its ServiceAccount (the pod's managedFields name no user, so the
// evidence is admission's: the webhook and the policy let only that identity
// create runner pods, and the demo session's pod exists), and that the
// ServiceAccount holds the shipped ClusterRole, not more.
func operatorRunsAsItsServiceAccount(t *testing.T, root string, env []string) {
	t.Helper()
	out, errOut, err := shell(t, root, env, "bin/kubectl auth can-i create pods --as="+operatorUser+" -n demo")
	require.NoError(t, err, errOut)
	assert.Equal(t, "yes", strings.TrimSpace(out))
	out, _, _ = shell(t, root, env, "bin/kubectl auth can-i create deployments --as="+operatorUser+" -n demo")
	assert.Equal(t, "no", strings.TrimSpace(out), "the shipped roles, not admin")
	out, errOut, err = shell(t, root, env, "bin/kubectl -n demo get pod demo-runner -o jsonpath={.metadata.name}")
	require.NoError(t, err, errOut)
	assert.Equal(t, "demo-runner", out, "created by the operator, the one runner creator")
}

// sessionReachesRunning applies config/samples into the demo namespace and
// watches the minimal session's runner pod get its labels and the session
// reach Running through the operator and the simulated kubelet.
func sessionReachesRunning(t *testing.T, root string, env []string) {
	t.Helper()
	_, errOut, err := shell(t, root, env, "bin/kubectl -n demo apply -k config/samples")
	require.NoError(t, err, errOut)
	require.Eventually(t, func() bool {
		out, _, err := shell(t, root, env, "bin/kubectl -n demo get agenticsession sample-minimal -o jsonpath='{.status.phase}'")
		return err == nil && out == "Running"
	}, startTimeout, time.Second, "sample-minimal never reached Running")
	out, errOut, err := shell(t, root, env, "bin/kubectl -n demo get pod sample-minimal-runner --show-labels --no-headers")
	require.NoError(t, err, errOut)
	assert.Contains(t, out, "ambient-code.io/runner=true")
	assert.Contains(t, out, "Running")
}

// programNames are the base names of the programs among procs.
func programNames(procs []proc) map[string]bool {
	names := map[string]bool{}
	for _, p := range procs {
		if fields := strings.Fields(p.cmdline); len(fields) > 0 {
			names[filepath.Base(fields[0])] = true
		}
	}
	return names
}
