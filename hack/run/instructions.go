package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/kubeletsim"
)

// ReadyLine starts the line printed once everything runs; the test of `make
// run` waits for it. Commands to try are printed before it, each on a line
// starting with "  $ ", runnable from the repository root. The third prints
// the object as that write stored it, before the operator writes its own; the
// fourth is refused by an admission policy alone.
const ReadyLine = "ready:"

func (r *localRun) printInstructions(w io.Writer, operator bool) {
	kubectl := r.rel(r.kubectl())
	ns := "-n " + demoNamespace
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	line("")
	programs := "etcd, kube-apiserver (with the admission policies), the webhook"
	if operator {
		programs += ", the operator"
	}
	line("Local cluster is up: %s and a simulated kubelet.", programs)
	line("Namespace %q is managed (%s=%s). In another terminal, at the repository root:", demoNamespace, v1alpha1.LabelManaged, v1alpha1.ValueTrue)
	line("")
	line("  export KUBECONFIG=%s", r.kubeconfig())
	line("")
	line("  # 1. A runner pod written without labels gets the runner labels (a server-side dry run: admission runs, nothing is stored);")
	line("  #    sent as the operator's ServiceAccount, the one identity that may create runner pods (without --as it is refused)")
	line("  $ %s create --as=%s --dry-run=server -f %s -o jsonpath='{.metadata.labels}'", kubectl, r.operator.Username(), r.rel(r.demoPodFile()))
	line("  # 2. Removing a runner label from the operator's runner pod is refused (by the admission policy, and by the webhook)")
	line("  $ %s %s label pod %s %s-", kubectl, ns, v1alpha1.RunnerPodName(demoSession), v1alpha1.LabelRunner)
	line("  # 3. A status write with duplicate condition types is stored with one condition per type")
	line("  $ %s %s patch agenticsession %s --subresource=status --type=merge --patch-file %s -o jsonpath='%s'",
		kubectl, ns, demoSession, r.rel(r.demoConditionsFile()),
		`{range .status.conditions[*]}{.type}={.status} ({.reason}){"\n"}{end}`)
	line("  # 4. A pod posing as a runner outside managed namespaces is refused by the admission policy (the webhook is never called there)")
	line("  $ %s -n %s run impostor --image=busybox --labels=%s=%s --dry-run=server", kubectl, unmanagedNamespace, v1alpha1.LabelRunner, v1alpha1.ValueTrue)
	line("")
	if operator {
		line("  # Sessions go through their phases; the simulated kubelet marks runner pods Running:")
		line("  %s %s apply -k config/samples && %s %s get agenticsessions -w", kubectl, ns, kubectl, ns)
		line("  # Make a runner exit (0: Completed, other: Failed):")
		line("  %s %s annotate pod sample-minimal-runner %s=0", kubectl, ns, kubeletsim.AnnotationExitCode)
		line("")
	}
	line("Logs: %s   Ctrl-C stops everything and removes %s.", r.rel(r.path("logs")), r.rel(r.cfg.dir))
	line("%s the local cluster is running", ReadyLine)
	fmt.Fprint(w, b.String())
}

// rel shortens path to be relative to the repository root, where `make run`
// and the printed commands run, when it lies inside it.
func (r *localRun) rel(path string) string {
	rel, err := filepath.Rel(r.cfg.root, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path
	}
	return rel
}
