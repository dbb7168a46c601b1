// Command scale loads the vteam-uat profile into a control plane ("load") and runs
// the scale benchmark that writes BENCHMARKS.md ("bench"; `make bench-scale`).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ambient-code/agentic-operator/hack/scale/child"
)

const usage = `Usage: scale <command> [flags]

Commands:
  load    load the vteam-uat profile into the cluster of --kubeconfig
  bench   start a control plane, load the profile at several scales and measure
          the operator's heap, the webhook's latency and stored sizes under churn
  report  render BENCHMARKS.md and its plot again from a bench run's results.json

Run "scale <command> -h" for the flags of a command.
`

func main() {
	child.Main() // a child process of the benchmark runs its part and exits here
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "load":
		return runLoad(ctx, args[1:], out)
	case "bench":
		return runBench(ctx, args[1:], out)
	case "report":
		return runReport(args[1:], out)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(out, usage)
		return nil
	}
	fmt.Fprint(out, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func logger(out io.Writer) logr.Logger {
	return zap.New(zap.WriteTo(out), zap.UseDevMode(true))
}
