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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	if _, t, err := p.ensureServiceAccount(ctx, s, owner); t != nil || err != nil {
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

// Repair puts back what Watched.Check found drifted of a Running session's
// identity: a ServiceAccount or RoleBinding deleted or changed is made again
// (a new ServiceAccount invalidates every token of the old one, so a new token
// goes into the Secret), and one that only lacks the active-runner label gets
// it. What cannot be repaired while the runner runs is returned as the reason
// it must restart: a deleted token Secret took the AG-UI token the runner holds
// with it, and a name now held by an object the session does not control is
// not written to (the restart's Ensure refuses it).
func (p *Provisioner) Repair(ctx context.Context, s *v1alpha1.AgenticSession, owner metav1.OwnerReference, d Drift) (restart string, err error) {
	newAccount := false
	if d.ServiceAccount {
		created, t, err := p.ensureServiceAccount(ctx, s, owner)
		if err != nil || t != nil {
			return takenReason(t), err
		}
		newAccount = created
	}
	if d.RoleBinding {
		if t, err := p.ensureRoleBinding(ctx, s, owner); err != nil || t != nil {
			return takenReason(t), err
		}
	}
	if !d.Secret && !newAccount {
		return "", nil
	}
	name := v1alpha1.TokenSecretName(s.Name)
	secret := metadataOf("Secret", s.Namespace, name)
	err = p.Live.Get(ctx, client.ObjectKeyFromObject(secret), secret)
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("its token Secret %s was deleted, and with it the AG-UI token the runner holds; the restarted runner gets a new one", name), nil
	case err != nil:
		return "", fmt.Errorf("reading token Secret %s/%s: %w", s.Namespace, name, err)
	case !controlledBy(secret, s):
		return takenReason(&Taken{Kind: "Secret", Name: name}), nil
	}
	patch := map[string]any{"metadata": map[string]any{"labels": activeLabel(v1alpha1.ValueTrue)}}
	if newAccount {
		token, err := Mint(ctx, p.Client, s.Namespace, v1alpha1.RunnerServiceAccountName(s.Name))
		if err != nil {
			return "", err
		}
		patch = map[string]any{
			"metadata": map[string]any{"labels": activeLabel(v1alpha1.ValueTrue),
				"annotations": map[string]any{v1alpha1.AnnotationTokenRefreshedAt: p.now()}},
			"data": map[string]any{v1alpha1.TokenSecretK8sTokenKey: []byte(token)},
		}
	}
	return "", p.mergePatch(ctx, secret, patch)
}

// Release takes the active-runner label off the identity objects of a session
// that is terminal (labelled names those still carrying it), so the drift
// watch forgets them; they stay for the next start, as on the platform.
func (p *Provisioner) Release(ctx context.Context, s *v1alpha1.AgenticSession, labelled Drift) error {
	patch := map[string]any{"metadata": map[string]any{"labels": activeLabel(nil)}}
	for _, o := range []struct {
		is         bool
		kind, name string
	}{
		{labelled.ServiceAccount, "ServiceAccount", v1alpha1.RunnerServiceAccountName(s.Name)},
		{labelled.RoleBinding, "RoleBinding", v1alpha1.RunnerRoleBindingName(s.Name)},
		{labelled.Secret, "Secret", v1alpha1.TokenSecretName(s.Name)},
	} {
		if !o.is {
			continue
		}
		if err := p.mergePatch(ctx, metadataOf(o.kind, s.Namespace, o.name), patch); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

func takenReason(t *Taken) string {
	if t == nil {
		return ""
	}
	return fmt.Sprintf("%s now holds a name of its identity and is not controlled by the session", t)
}

func activeLabel(value any) map[string]any {
	return map[string]any{v1alpha1.LabelActiveRunner: value}
}

// metadataOf is an identity object as metadata, for reads and patches that
// need nothing else (and so never carry a token).
func metadataOf(kind, ns, name string) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	gv := corev1.SchemeGroupVersion
	if kind == "RoleBinding" {
		gv = rbacv1.SchemeGroupVersion
	}
	m.SetGroupVersionKind(gv.WithKind(kind))
	return m
}

// ensureServiceAccount creates s's ServiceAccount (created) or checks the one
// of its name, bringing its user annotation and active-runner label up to date.
func (p *Provisioner) ensureServiceAccount(ctx context.Context, s *v1alpha1.AgenticSession, owner metav1.OwnerReference) (created bool, t *Taken, err error) {
	want := serviceAccount(s, owner)
	existing := metadataOf("ServiceAccount", s.Namespace, want.Name)
	found, err := p.createOrRead(ctx, want, existing)
	if err != nil || !found {
		return err == nil, nil, err
	}
	if !controlledBy(existing, s) {
		return false, &Taken{Kind: "ServiceAccount", Name: want.Name}, nil
	}
	// The backend acts for this user when the runner calls it: keep it current.
	user := userID(s)
	if existing.Annotations[v1alpha1.AnnotationCreatedByUserID] == user && existing.Labels[v1alpha1.LabelActiveRunner] == v1alpha1.ValueTrue {
		return false, nil, nil
	}
	var value any = user
	if user == "" {
		value = nil
	}
	return false, nil, p.mergePatch(ctx, existing, map[string]any{"metadata": map[string]any{
		"labels":      activeLabel(v1alpha1.ValueTrue),
		"annotations": map[string]any{v1alpha1.AnnotationCreatedByUserID: value}}})
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
	if existing.Labels[v1alpha1.LabelActiveRunner] != v1alpha1.ValueTrue && existing.RoleRef == want.RoleRef {
		if err := p.mergePatch(ctx, metadataOf("RoleBinding", s.Namespace, want.Name),
			map[string]any{"metadata": map[string]any{"labels": activeLabel(v1alpha1.ValueTrue)}}); err != nil {
			return nil, err
		}
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
		"metadata": map[string]any{"labels": activeLabel(v1alpha1.ValueTrue),
			"annotations": map[string]any{v1alpha1.AnnotationTokenRefreshedAt: now}},
		"data": data,
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

func (p *Provisioner) clusterRole() string { return clusterRoleOr(p.ClusterRole) }

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
