package runneridentity

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

const (
	// DefaultRefreshAfter is the token age at which a Running session's token is
	// replaced: the platform's 45 minutes, well inside the API server's default
	// one-hour lifetime and the kubelet's ~1 minute Secret propagation.
	DefaultRefreshAfter = 45 * time.Minute
	// rememberedSessions bounds the refresh schedule kept in memory (an entry is
	// about 150 B); a session that falls out costs one metadata read of its
	// Secret when next reconciled. Above the 5,000 Running sessions the scale
	// bench reaches, where 4,096 made every reconcile past it read again.
	rememberedSessions = 16384
)

// Refresher keeps the ServiceAccount token of Running sessions fresh: when the
// token Secret's token-refreshed-at is DefaultRefreshAfter old it mints a new
// token and patches only k8s-token and the timestamp. It is a RunningHook; when
// the next refresh is due is remembered (bounded), so a settled session costs no
// request until then.
type Refresher struct {
	Client client.Client
	Live   client.Reader
	// RefreshAfter is the token age that triggers a refresh; zero means
	// DefaultRefreshAfter.
	RefreshAfter time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	due *lru.Cache // session UID → time.Time the refresh is due
}

// NewRefresher builds a Refresher.
func NewRefresher(c client.Client, live client.Reader) *Refresher {
	return &Refresher{Client: c, Live: live, due: lru.New(rememberedSessions)}
}

// Refresh refreshes s's token if it is due and returns how long until the next
// refresh. A session without a token Secret (one the platform started and this
// operator has not restarted) is left alone, as the platform leaves it.
func (r *Refresher) Refresh(ctx context.Context, s *v1alpha1.AgenticSession) (time.Duration, error) {
	now := r.now()
	if v, ok := r.due.Get(s.UID); ok {
		if left := v.(time.Time).Sub(now); left > 0 {
			return left, nil
		}
	}
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	key := types.NamespacedName{Namespace: s.Namespace, Name: v1alpha1.TokenSecretName(s.Name)}
	if err := r.Live.Get(ctx, key, meta); err != nil {
		if apierrors.IsNotFound(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("reading token Secret %s: %w", key, err)
	}
	if !controlledBy(meta, s) {
		return 0, nil // never ours to write; the start refused it
	}
	refreshed, err := time.Parse(time.RFC3339, meta.Annotations[v1alpha1.AnnotationTokenRefreshedAt])
	if err == nil && now.Sub(refreshed) < r.refreshAfter() {
		due := refreshed.Add(r.refreshAfter())
		r.due.Add(s.UID, due)
		return due.Sub(now), nil
	}
	// Always the session's own ServiceAccount, never the runner-sa annotation's:
	// anyone who can edit the session could point that at another account.
	token, err := Mint(ctx, r.Client, s.Namespace, v1alpha1.RunnerServiceAccountName(s.Name))
	if err != nil {
		return 0, err
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: key.Name}}
	if err := mergePatch(ctx, r.Client, secret, map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{v1alpha1.AnnotationTokenRefreshedAt: now.UTC().Format(time.RFC3339)}},
		"data":     map[string]any{v1alpha1.TokenSecretK8sTokenKey: []byte(token)},
	}); err != nil {
		return 0, err
	}
	log.FromContext(ctx).Info("Refreshed runner token", "secret", klog.KRef(s.Namespace, key.Name))
	r.due.Add(s.UID, now.Add(r.refreshAfter()))
	return r.refreshAfter(), nil
}

// Forget drops s from the schedule, so a new start is looked at afresh.
func (r *Refresher) Forget(s *v1alpha1.AgenticSession) { r.due.Remove(s.UID) }

func (r *Refresher) refreshAfter() time.Duration {
	if r.RefreshAfter > 0 {
		return r.RefreshAfter
	}
	return DefaultRefreshAfter
}

func (r *Refresher) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
