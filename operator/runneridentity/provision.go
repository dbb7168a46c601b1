package runneridentity

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/ensure"
)

// Provisioner makes a session's runner identity ready for a new runner pod.
type Provisioner struct {
	// Client writes; its reads are not used (none of these kinds is cached).
	Client client.Client
	// Live reads from the API server.
	Live client.Reader
	// ClusterRole is what the runner's RoleBinding grants; empty means
	// DefaultClusterRole.
	ClusterRole string
	// Now stamps token-refreshed-at; nil means time.Now.
	Now func() time.Time
}

// Taken names an object holding one of the identity's names that the session
// does not control: it is left alone and the runner is not started.
type Taken struct {
	Kind, Name string
}

func (t *Taken) String() string { return t.Kind + " " + t.Name }

// Ensure creates or checks, in order, the ServiceAccount, the RoleBinding and
// the token Secret of s, minting a new ServiceAccount token every time: a runner
// that starts always holds a token good for its full lifetime (the platform
// reuses one that may have expired on restart). The AG-UI token is made once and
// kept across restarts, since the backend reads it from the Secret to call the
// runner. owner is the session's controller reference.
func (p *Provisioner) Ensure(ctx context.Context, s *v1alpha1.AgenticSession, owner metav1.OwnerReference) (*Taken, error) {
	if t, err := p.ensureServiceAccount(ctx, s, owner); t != nil || err != nil {
		return t, err
	}
	if t, err := p.ensureRoleBinding(ctx, s, owner); t != nil || err != nil {
		return t, err
	}
	token, err := Mint(ctx, p.Client, s.Namespace, v1alpha1.RunnerServiceAccountName(s.Name))
	if err != nil {
		return nil, err
	}
	return p.ensureTokenSecret(ctx, s, owner, token)
}

func (p *Provisioner) ensureServiceAccount(ctx context.Context, s *v1alpha1.AgenticSession, owner metav1.OwnerReference) (*Taken, error) {
	want := serviceAccount(s, owner)
	existing := &metav1.PartialObjectMetadata{}
	existing.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ServiceAccount"))
	found, err := p.createOrRead(ctx, want, existing)
	if err != nil || !found {
		return nil, err
	}
	if !controlledBy(existing, s) {
		return &Taken{Kind: "ServiceAccount", Name: want.Name}, nil
	}
	// The backend acts for this user when the runner calls it: keep it current.
	user := userID(s)
	if existing.Annotations[v1alpha1.AnnotationCreatedByUserID] == user {
		return nil, nil
	}
	var value any = user
	if user == "" {
		value = nil
	}
	return nil, p.mergePatch(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: want.Name, Namespace: s.Namespace}},
		map[string]any{"metadata": map[string]any{"annotations": map[string]any{v1alpha1.AnnotationCreatedByUserID: value}}})
}

func (p *Provisioner) ensureRoleBinding(ctx context.Context, s *v1alpha1.AgenticSession, owner metav1.OwnerReference) (*Taken, error) {
	want := roleBinding(s, owner, p.clusterRole())
	existing := &rbacv1.RoleBinding{}
	found, err := p.createOrRead(ctx, want, existing)
	if err != nil || !found {
		return nil, err
	}
	if !controlledBy(existing, s) {
		return &Taken{Kind: "RoleBinding", Name: want.Name}, nil
	}
	return nil, ensure.RoleBinding(ctx, p.Client, existing, want)
}

func (p *Provisioner) ensureTokenSecret(ctx context.Context, s *v1alpha1.AgenticSession, owner metav1.OwnerReference, token string) (*Taken, error) {
	now := p.now()
	want := tokenSecret(s, owner, token, string(uuid.NewUUID()), now)
	existing := &corev1.Secret{}
	found, err := p.createOrRead(ctx, want, existing)
	if err != nil || !found {
		return nil, err
	}
	if !controlledBy(existing, s) {
		// Never write a token into a Secret someone else controls: they could read it.
		return &Taken{Kind: "Secret", Name: want.Name}, nil
	}
	data := map[string]any{v1alpha1.TokenSecretK8sTokenKey: []byte(token)}
	if len(existing.Data[v1alpha1.TokenSecretAGUIKey]) == 0 {
		data[v1alpha1.TokenSecretAGUIKey] = want.Data[v1alpha1.TokenSecretAGUIKey]
	}
	return nil, p.mergePatch(ctx, existing, map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{v1alpha1.AnnotationTokenRefreshedAt: now}},
		"data":     data,
	})
}

// createOrRead is ensure.CreateOrRead with the provisioner's writer and live reader.
func (p *Provisioner) createOrRead(ctx context.Context, want, existing client.Object) (found bool, err error) {
	return ensure.CreateOrRead(ctx, p.Client, p.Live, want, existing)
}

func (p *Provisioner) mergePatch(ctx context.Context, obj client.Object, patch map[string]any) error {
	return mergePatch(ctx, p.Client, obj, patch)
}

func mergePatch(ctx context.Context, c client.Writer, obj client.Object, patch map[string]any) error {
	data, err := json.Marshal(patch)
	if err != nil {
		return fmt.Errorf("encoding patch of %s: %w", klog.KObj(obj), err)
	}
	if err := c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, data)); err != nil {
		return fmt.Errorf("patching %T %s: %w", obj, klog.KObj(obj), err)
	}
	return nil
}

func (p *Provisioner) clusterRole() string {
	if p.ClusterRole != "" {
		return p.ClusterRole
	}
	return DefaultClusterRole
}

func (p *Provisioner) now() string {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	return now().UTC().Format(time.RFC3339)
}

// Mint requests a token for ServiceAccount ns/name with the API server's default
// audience and lifetime, as the platform does (the backend reviews it).
func Mint(ctx context.Context, c client.SubResourceClientConstructor, ns, name string) (string, error) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	tr := &authenticationv1.TokenRequest{}
	if err := c.SubResource("token").Create(ctx, sa, tr); err != nil {
		return "", fmt.Errorf("requesting a token for ServiceAccount %s/%s: %w", ns, name, err)
	}
	if tr.Status.Token == "" {
		return "", fmt.Errorf("requesting a token for ServiceAccount %s/%s: the API server returned an empty token", ns, name)
	}
	return tr.Status.Token, nil
}

// controlledBy reports whether obj's controller is s (kind and uid).
func controlledBy(obj metav1.Object, s *v1alpha1.AgenticSession) bool {
	ref := metav1.GetControllerOfNoCopy(obj)
	return ref != nil && ref.UID == s.UID && ref.Kind == v1alpha1.KindAgenticSession &&
		strings.HasPrefix(ref.APIVersion, v1alpha1.GroupVersion.Group+"/")
}

func trim(s string) string { return strings.TrimSpace(s) }
