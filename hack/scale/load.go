package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/ambient-code/agentic-operator/hack/scale/cluster"
	"github.com/ambient-code/agentic-operator/hack/scale/profile"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// runLoad loads the profile into the cluster of --kubeconfig and prints what it did.
func runLoad(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(out)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the target cluster (default: $KUBECONFIG, then ~/.kube/config)")
	concurrency := fs.Int("concurrency", 32, "requests in flight")
	counts := profile.CountFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = *kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	cfg = cluster.Fast(cfg)
	core, c, err := cluster.Clients(cfg, testenv.NewScheme())
	if err != nil {
		return err
	}
	want := counts()
	fmt.Fprintf(out, "loading %s\n", want)
	ld := &profile.Loader{Core: core, Client: c, Concurrency: *concurrency, Log: logger(out)}
	loaded, err := ld.Load(ctx, want)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, loaded)
	t := time.Now()
	sizes, err := profile.SessionSizes(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sessions as the API server returns them: %s (listed in %s)\n", sizes, time.Since(t).Round(time.Millisecond))
	return nil
}
