package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/archive"
	"github.com/ambient-code/agentic-operator/operator/cutover"
)

const (
	// archiveCommandName is the operator subcommand that runs the archive pass.
	archiveCommandName = "archive"
	// adoptCommandName runs the cut-over from the platform's operator, then the
	// archive pass.
	adoptCommandName = "adopt"
)

// archiveCommand runs `operator archive [flags]`: one archive pass.
func archiveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return passCommand(ctx, archiveCommandName, args, stdout, stderr)
}

// adoptCommand runs `operator adopt [flags]`: the cut-over pass
// (operator/cutover), then the archive pass.
func adoptCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return passCommand(ctx, adoptCommandName, args, stdout, stderr)
}

// passCommand parses the flags both passes share and runs them against the
// cluster of the kubeconfig (--kubeconfig, $KUBECONFIG, in-cluster,
// ~/.kube/config, as the operator finds it), then prints the counts. It returns
// the process exit code.
func passCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("operator "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts archive.AdoptOptions
	fs.BoolVar(&opts.DryRun, "dry-run", false, "Print what would be changed and the counts; write nothing.")
	fs.StringVar(&opts.Namespace, "namespace", "", "Act only in this namespace; empty is every namespace.")
	fs.Int64Var(&opts.PageSize, "page-size", archive.DefaultPageSize, "Objects per list request; bounds memory.")
	fs.IntVar(&opts.Workers, "workers", 8, "Concurrent pod/Service reads and patches of the archive pass.")
	config.RegisterFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: operator %s [flags]\n\n", name)
		if name == adoptCommandName {
			fmt.Fprintf(stderr, "Takes over what the platform's operator left: labels its runner pods %s=true,\nmakes each session the controller of its runner Service, and gives group\nRoleBindings and the runner NetworkPolicy their ProjectSettings. Then archives\nas `operator archive` does. Run it with the platform's operator scaled to zero.\n\n", v1alpha1.LabelRunner)
		}
		fmt.Fprintf(stderr, "Labels %s=true every terminal AgenticSession that has no pending\nrestart and no runner pod or Service, so that the operator does not cache it.\n\n", v1alpha1.LabelArchived)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if fs.NArg() > 0 || opts.PageSize < 1 || opts.Workers < 1 {
		fmt.Fprintf(stderr, "operator %s: want no arguments, --page-size and --workers of at least 1\n", name)
		return 2
	}
	cfg, err := config.GetConfig()
	if err != nil {
		fmt.Fprintf(stderr, "operator %s: %v\n", name, err)
		return 1
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			fmt.Fprintf(stderr, "operator %s: %v\n", name, err)
			return 1
		}
	}
	// Uncached: one-off passes need no informers.
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintf(stderr, "operator %s: building client: %v\n", name, err)
		return 1
	}
	opts.Out = stdout
	if name == adoptCommandName {
		res, err := cutover.Adopt(ctx, c, cutover.Options{Namespace: opts.Namespace, PageSize: opts.PageSize, DryRun: opts.DryRun, Out: stdout})
		cutover.PrintCounts(stdout, res, opts.DryRun)
		if err != nil {
			fmt.Fprintf(stderr, "operator %s: %v\n", name, err)
			return 1
		}
	}
	res, err := archive.Adopt(ctx, c, c, opts)
	archive.PrintCounts(stdout, res, opts.DryRun)
	if err != nil {
		fmt.Fprintf(stderr, "operator %s: %v\n", name, err)
		return 1
	}
	return 0
}
