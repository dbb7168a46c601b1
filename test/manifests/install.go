package manifests

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// installOwner is the field manager of webhook configurations installed for a
// local webhook.
const installOwner = "agentic-local-webhook"

// Hooks are webhook configurations installed in the API server.
type Hooks struct {
	objs []*unstructured.Unstructured
	c    client.Client
	core kubernetes.Interface
	// probeNamespace is a managed namespace where dry-run probes run.
	probeNamespace string
}

// Install builds config/default with kubectl, points its webhook configurations at
// baseURL (trusting caPEM) and applies them; it returns once the API server calls
// the webhook (a dry-run impostor pod is denied).
func InstallWebhooks(ctx context.Context, c client.Client, core kubernetes.Interface, root, kubectl, baseURL string, caPEM []byte, probeNamespace string) (*Hooks, error) {
	objs, err := Build(ctx, kubectl, filepath.Join(root, "config", "default"))
	if err != nil {
		return nil, err
	}
	hooks, err := LocalWebhookConfigurations(objs, Local{BaseURL: baseURL, CABundle: caPEM})
	if err != nil {
		return nil, err
	}
	if len(hooks) == 0 {
		return nil, errors.New("config/default holds no webhook configurations")
	}
	if err := Apply(ctx, c, installOwner, hooks...); err != nil {
		return nil, err
	}
	h := &Hooks{objs: hooks, c: c, core: core, probeNamespace: probeNamespace}
	return h, h.waitEnforced(ctx, true)
}

// Uninstall deletes the configurations and returns once the API server stops calling.
func (h *Hooks) Uninstall(ctx context.Context) error {
	for _, o := range h.objs {
		if err := h.c.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	return h.waitEnforced(ctx, false)
}

// waitEnforced polls a dry-run create of a pod that claims a session it is not
// controlled by (I2) until the API server denies it (on) or admits it (off): the
// API server picks up configuration changes asynchronously.
func (h *Hooks) waitEnforced(ctx context.Context, on bool) error {
	impostor := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "impostor-", Namespace: h.probeNamespace,
			Labels: map[string]string{v1alpha1.LabelRunner: v1alpha1.ValueTrue}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
			AutomountServiceAccountToken: ptr.To(false)},
	}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := h.core.CoreV1().Pods(h.probeNamespace).Create(ctx, impostor, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		denied := apierrors.IsForbidden(err) || apierrors.IsInvalid(err)
		if err != nil && !denied {
			return false, nil // e.g. the webhook is not reachable yet
		}
		return denied == on, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the webhook to be %s: %w", map[bool]string{true: "enforced", false: "gone"}[on], err)
	}
	return nil
}
