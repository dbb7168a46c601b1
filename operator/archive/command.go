package archive

import (
	"context"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

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
