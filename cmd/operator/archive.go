package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"sigs.k8s.io/controller-runtime/pkg/client/config"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/archive"
)

// archiveCommandName is the operator subcommand that runs the adoption pass.
const archiveCommandName = "archive"

// archiveCommand runs `operator archive [flags]`: one adoption pass against the cluster
// of the kubeconfig (--kubeconfig, $KUBECONFIG, in-cluster, ~/.kube/config, as
// the operator finds it), then the counts. It returns the process exit code.
func archiveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("operator "+archiveCommandName, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts archive.AdoptOptions
	fs.BoolVar(&opts.DryRun, "dry-run", false, "Print the sessions that would be archived and the counts; write nothing.")
	fs.StringVar(&opts.Namespace, "namespace", "", "Archive only in this namespace; empty is every namespace.")
	fs.Int64Var(&opts.PageSize, "page-size", archive.DefaultPageSize, "Sessions per list request; bounds memory.")
	fs.IntVar(&opts.Workers, "workers", 8, "Concurrent pod/Service reads and patches.")
	config.RegisterFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: operator %s [flags]\n\nLabels %s=true every terminal AgenticSession that has no pending\nrestart and no runner pod or Service, so that the operator does not cache it.\n\n", archiveCommandName, v1alpha1.LabelArchived)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if fs.NArg() > 0 || opts.PageSize < 1 || opts.Workers < 1 {
		fmt.Fprintf(stderr, "operator %s: want no arguments, --page-size and --workers of at least 1\n", archiveCommandName)
		return 2
	}
	cfg, err := config.GetConfig()
	if err != nil {
		fmt.Fprintf(stderr, "operator %s: %v\n", archiveCommandName, err)
		return 1
	}
	opts.Out = stdout
	res, err := archive.Run(ctx, cfg, opts)
	archive.PrintCounts(stdout, res, opts.DryRun)
	if err != nil {
		fmt.Fprintf(stderr, "operator %s: %v\n", archiveCommandName, err)
		return 1
	}
	return 0
}
