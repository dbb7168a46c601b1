package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/certs"
	"github.com/ambient-code/agentic-operator/hack/scale/churn"
	"github.com/ambient-code/agentic-operator/hack/scale/profile"
	"github.com/ambient-code/agentic-operator/hack/scale/viaapi"
	"github.com/ambient-code/agentic-operator/hack/scale/webhookload"
	"github.com/ambient-code/agentic-operator/test/manifests"
)

// webhook measures the webhook binary beside the floor server at each rate, then
// runner pod creation and churn through the API server without and with the
// shipped webhook configurations installed.
func (e *env) webhook(ctx context.Context, res *Results) error {
	dir, err := os.MkdirTemp("", "scale-webhook-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ca, _, err := certs.GenerateDir(dir, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, 24*time.Hour)
	if err != nil {
		return err
	}
	reviews, err := webhookload.Reviews(ctx, e.c, 200)
	if err != nil {
		return err
	}
	res.Reviews = len(reviews)
	hookAddr, err := webhookload.FreeAddr()
	if err != nil {
		return err
	}
	hook, err := webhookload.StartWebhook(ctx, filepath.Join(e.cfg.Root, "bin", "webhook"), hookAddr, dir, e.cfg.Logs)
	if err != nil {
		return err
	}
	defer hook.Stop()
	hookTarget := webhookload.NewTarget("webhook", "https://"+hookAddr, hook.PID(), ca.Pool())
	defer hookTarget.Close()
	if err := hook.WaitReady(ctx, hookTarget, reviews[0], 30*time.Second); err != nil {
		return err
	}
	if err := e.rates(ctx, res, dir, ca, reviews, hookTarget); err != nil {
		return err
	}

	res.ViaAPI, res.Churn = map[string]viaapi.Creation{}, map[string][]churn.Checkpoint{}
	keys := e.terminalSessions(2 * e.cfg.RunnerPods)
	half := len(keys) / 2
	if err := e.throughAPI(ctx, res, WithoutWebhook, keys[:half]); err != nil {
		return err
	}
	hooks, err := manifests.InstallWebhooks(ctx, e.c, e.core, e.cfg.Root, filepath.Join(e.cfg.Root, "bin", "kubectl"),
		"https://"+hookAddr, ca.CertPEM, profile.ManagedNamespace(0))
	if err != nil {
		return err
	}
	if err := e.throughAPI(ctx, res, WithWebhook, keys[half:]); err != nil {
		return err
	}
	return hooks.Uninstall(ctx)
}

// rates runs the webhook and the floor server at each rate, alternating.
func (e *env) rates(ctx context.Context, res *Results, dir string, ca *certs.CA, reviews []webhookload.Review, hookTarget *webhookload.Target) error {
	floorAddr, err := webhookload.FreeAddr()
	if err != nil {
		return err
	}
	floor, err := webhookload.StartFloor(ctx, floorAddr, dir, e.cfg.Logs)
	if err != nil {
		return err
	}
	defer floor.Stop()
	floorTarget := webhookload.NewTarget("floor", "https://"+floorAddr, floor.PID(), ca.Pool())
	defer floorTarget.Close()
	if err := floor.WaitReady(ctx, floorTarget, reviews[0], 30*time.Second); err != nil {
		return err
	}
	for _, rate := range e.cfg.Rates {
		for _, t := range []*webhookload.Target{hookTarget, floorTarget} {
			t.Warm(ctx, reviews, rate, e.cfg.Warmup)
			run, err := t.Measure(ctx, reviews, rate, e.cfg.RateDuration)
			if err != nil {
				return err
			}
			e.cfg.Log.Info("Webhook run", "target", run.Target, "rate", rate, "sent", run.Sent, "errors", run.Errors,
				"p50", run.P50, "p99", run.P99, "max", run.Max, "cpuPer1000", run.CPUPer1000(), "firstError", run.FirstError)
			res.Webhook = append(res.Webhook, run)
		}
	}
	return nil
}

// throughAPI creates runner pods and runs the churn, recording both under label.
func (e *env) throughAPI(ctx context.Context, res *Results, label string, keys []client.ObjectKey) error {
	created, err := viaapi.CreateRunnerPods(ctx, e.cl.Config, e.core, e.c, keys, 8)
	if err != nil {
		return fmt.Errorf("runner pods %s: %w", label, err)
	}
	res.ViaAPI[label] = created
	e.cfg.Log.Info("Runner pods created", "how", label, "pods", created.Pods, "clientP99", created.ClientP99, "webhooks", created.Webhooks)
	name := fmt.Sprintf("churn-%d", len(res.Churn))
	cps, err := churn.Run(ctx, e.cl.Config, e.c, e.loaded, profile.ManagedNamespace(0), name, e.cfg.ChurnWrites, e.cfg.ChurnCheckpoints)
	if err != nil {
		return fmt.Errorf("churn %s: %w", label, err)
	}
	res.Churn[label] = cps
	e.cfg.Log.Info("Churn done", "how", label, "checkpoints", cps)
	return nil
}

// terminalSessions names up to n loaded sessions that are not active (and so have
// no runner pod), newest first.
func (e *env) terminalSessions(n int) []client.ObjectKey {
	var keys []client.ObjectKey
	for i := e.loaded.Sessions - 1; i >= 0 && len(keys) < n; i-- {
		if _, active := profile.ActiveIndex(e.loaded, i); active {
			continue
		}
		keys = append(keys, client.ObjectKey{Namespace: profile.SessionNamespace(e.loaded, i), Name: profile.SessionName(i)})
	}
	return keys
}
