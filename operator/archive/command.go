package archive

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// CommandName is the operator subcommand that runs Adopt.
const CommandName = "archive"

// Command runs `operator archive [flags]`: one adoption pass against the cluster
// of the kubeconfig (--kubeconfig, $KUBECONFIG, in-cluster, ~/.kube/config, as
// the operator finds it), then the counts. It returns the process exit code.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("operator "+CommandName, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts AdoptOptions
	fs.BoolVar(&opts.DryRun, "dry-run", false, "Print the sessions that would be archived and the counts; write nothing.")
	fs.StringVar(&opts.Namespace, "namespace", "", "Archive only in this namespace; empty is every namespace.")
	fs.Int64Var(&opts.PageSize, "page-size", DefaultPageSize, "Sessions per list request; bounds memory.")
	fs.IntVar(&opts.Workers, "workers", 8, "Concurrent pod/Service reads and patches.")
	config.RegisterFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: operator %s [flags]\n\nLabels %s=true every terminal AgenticSession that has no pending\nrestart and no runner pod or Service, so that the operator does not cache it.\n\n", CommandName, v1alpha1.LabelArchived)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if fs.NArg() > 0 || opts.PageSize < 1 || opts.Workers < 1 {
		fmt.Fprintf(stderr, "operator %s: want no arguments, --page-size and --workers of at least 1\n", CommandName)
		return 2
	}
	cfg, err := config.GetConfig()
	if err != nil {
		fmt.Fprintf(stderr, "operator %s: %v\n", CommandName, err)
		return 1
	}
	opts.Out = stdout
	res, err := Run(ctx, cfg, opts)
	PrintCounts(stdout, res, opts.DryRun)
	if err != nil {
		fmt.Fprintf(stderr, "operator %s: %v\n", CommandName, err)
		return 1
	}
	return 0
}

// Run builds a client for cfg (uncached: a one-off pass needs no informers) and
// runs Adopt.
func Run(ctx context.Context, cfg *rest.Config, opts AdoptOptions) (AdoptResult, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return AdoptResult{}, err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return AdoptResult{}, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return AdoptResult{}, fmt.Errorf("building client: %w", err)
	}
	return Adopt(ctx, c, c, opts)
}

// PrintCounts writes the result as one "key: n" line each, zeros included, so
// that the output has the same shape on every run.
func PrintCounts(w io.Writer, res AdoptResult, dryRun bool) {
	label := "archived"
	if dryRun {
		label = "wouldArchive"
	}
	fmt.Fprintf(w, "scanned: %d\n%s: %d\n", res.Scanned, label, res.ByReason[Archivable])
	for _, r := range []Reason{NotTerminal, RestartPending, RunnerObjectLeft, BeingDeleted} {
		fmt.Fprintf(w, "%s: %d\n", r, res.ByReason[r])
	}
	fmt.Fprintf(w, "changedWhileArchiving: %d\n", res.Changed)
}
