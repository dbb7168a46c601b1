package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"

	"github.com/ambient-code/agentic-operator/test/manifests"
)

// fieldOwner names the local run in managedFields.
const fieldOwner = "agentic-local-run"

// installCRDs applies config/crd as shipped and waits until the CRDs are
// established.
func (r *localRun) installCRDs(ctx context.Context) error {
	objs, err := manifests.Build(ctx, r.kubectl(), filepath.Join(r.cfg.root, "config", "crd"))
	if err != nil {
		return err
	}
	if err := manifests.Apply(ctx, r.client, fieldOwner, objs...); err != nil {
		return fmt.Errorf("installing CRDs: %w", err)
	}
	return nil
}

// installPolicies applies the admission policies of config/policies as shipped
// but for one change: the runner creators are the operator's ServiceAccount as
// config/default names it (granted by grantOperator), the webhook's
// --runner-creators too, so that the policies and the webhook agree. With them installed the pod webhooks fail
// open, as they do in config/default.
func (r *localRun) installPolicies(ctx context.Context) error {
	objs, err := manifests.Build(ctx, r.kubectl(), filepath.Join(r.cfg.root, "config", "policies"))
	if err != nil {
		return err
	}
	if err := manifests.SetRunnerCreators(objs, []string{r.operator.Username()}); err != nil {
		return fmt.Errorf("config/policies: %w", err)
	}
	if err := manifests.Apply(ctx, r.client, fieldOwner, objs...); err != nil {
		return fmt.Errorf("installing admission policies: %w", err)
	}
	return nil
}

// installWebhooks applies the webhook configurations of config/webhook with
// one change: clientConfig calls the local webhook (URL and the local CA)
// instead of the in-cluster Service. Selectors, matchConditions and failure
// policies are the shipped ones.
func (r *localRun) installWebhooks(ctx context.Context) error {
	objs, err := manifests.Build(ctx, r.kubectl(), filepath.Join(r.cfg.root, "config", "webhook"))
	if err != nil {
		return err
	}
	local, err := manifests.LocalWebhookConfigurations(objs, manifests.Local{
		BaseURL:  "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(r.cfg.ports.Webhook)),
		CABundle: r.webhookCA,
	})
	if err != nil {
		return err
	}
	if len(local) == 0 {
		return fmt.Errorf("config/webhook holds no webhook configuration")
	}
	if err := manifests.Apply(ctx, r.client, fieldOwner, local...); err != nil {
		return fmt.Errorf("installing webhook configurations: %w", err)
	}
	return nil
}

func (r *localRun) kubectl() string { return filepath.Join(r.cfg.binDir, "kubectl") }
