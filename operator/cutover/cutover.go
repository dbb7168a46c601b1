// Package cutover takes over, on a live cluster, what the platform's own
// operator left behind, so that this operator can run in its place without
// restarting a session (`operator adopt`):
//
//   - runner pods it created lack the ambient-code.io/runner label this
//     operator's pod cache selects on: they get it (the webhook and the
//     admission policies let an update add a missing runner label with its
//     expected value);
//   - the runner Service session-<s> is controlled by the runner pod, not the
//     session, and labelled app=ambient-code: it gets the session as its
//     controller and the runner label this operator watches Services by;
//   - group RoleBindings <group>-<role> have no owner: those that are exactly
//     what a groupAccess entry of the namespace's ProjectSettings asks for get
//     the ProjectSettings as controller and the group-access label;
//   - the runner NetworkPolicy has no owner: it gets the ProjectSettings.
//
// The per-session ServiceAccount, RoleBinding and token Secret, the LimitRange
// and the trigger's objects are already controlled by their session or
// ProjectSettings, as this operator wants them. Nothing is adopted unless its
// chain of controllers leads, uid by uid, to the session or ProjectSettings it
// claims; anything else is counted as skipped and left alone. A rerun changes
// nothing.
package cutover

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/project"
	"github.com/ambient-code/agentic-operator/operator/session"
)

// platformServiceApp is the app label of the platform operator's runner Services.
const platformServiceApp = "ambient-code"

// Options configure a cut-over pass.
type Options struct {
	// Namespace restricts the pass; empty is every namespace.
	Namespace string
	// PageSize is the list limit.
	PageSize int64
	// DryRun decides and reports without writing.
	DryRun bool
	// Out, when set, gets one line per object adopted (or, in a dry run, that
	// would be) or skipped.
	Out io.Writer
}

// Result counts what a pass did, by kind.
type Result struct {
	RunnerPods, RunnerServices, GroupRoleBindings, NetworkPolicies int
	// Skipped are objects of those shapes whose controllers do not lead to the
	// session or ProjectSettings they claim: left alone.
	Skipped int
}

// Adopt runs the pass with c, which must read the API server (no cache).
func Adopt(ctx context.Context, c client.Client, opts Options) (Result, error) {
	a := &adopter{c: c, opts: opts}
	for _, step := range []func(context.Context) error{a.runnerPods, a.runnerServices, a.groupBindings, a.networkPolicies} {
		if err := step(ctx); err != nil {
			return a.res, err
		}
	}
	return a.res, nil
}

// PrintCounts writes the result as one "key: n" line each, zeros included.
func PrintCounts(w io.Writer, r Result, dryRun bool) {
	prefix := "adopted"
	if dryRun {
		prefix = "wouldAdopt"
	}
	fmt.Fprintf(w, "%sRunnerPods: %d\n%sRunnerServices: %d\n%sGroupRoleBindings: %d\n%sNetworkPolicies: %d\nskipped: %d\n",
		prefix, r.RunnerPods, prefix, r.RunnerServices, prefix, r.GroupRoleBindings, prefix, r.NetworkPolicies, r.Skipped)
}

type adopter struct {
	c    client.Client
	opts Options
	res  Result
}

// list pages through objects matching sel, calling each on every item.
func (a *adopter) list(ctx context.Context, list client.ObjectList, sel labels.Selector, each func() error) error {
	opts := []client.ListOption{client.MatchingLabelsSelector{Selector: sel}}
	if a.opts.PageSize > 0 {
		opts = append(opts, client.Limit(a.opts.PageSize))
	}
	if a.opts.Namespace != "" {
		opts = append(opts, client.InNamespace(a.opts.Namespace))
	}
	for cont := ""; ; {
		if err := a.c.List(ctx, list, append(opts, client.Continue(cont))...); err != nil {
			return fmt.Errorf("listing %T: %w", list, err)
		}
		if err := each(); err != nil {
			return err
		}
		if cont = list.(metav1.ListInterface).GetContinue(); cont == "" {
			return nil
		}
	}
}

func selector(reqs ...labels.Requirement) labels.Selector { return labels.NewSelector().Add(reqs...) }

func requirement(key string, op selection.Operator, values ...string) labels.Requirement {
	r, err := labels.NewRequirement(key, op, values)
	if err != nil {
		panic(err) // constant keys and operators
	}
	return *r
}

// controllingSession returns the session obj's controller reference names when
// it exists with that uid; nil otherwise.
func (a *adopter) controllingSession(ctx context.Context, obj metav1.Object) (*v1alpha1.AgenticSession, error) {
	ref := metav1.GetControllerOf(obj)
	if ref == nil || ref.Kind != v1alpha1.KindAgenticSession || ref.APIVersion != v1alpha1.GroupVersion.String() {
		return nil, nil
	}
	s := &v1alpha1.AgenticSession{}
	err := a.c.Get(ctx, types.NamespacedName{Namespace: obj.GetNamespace(), Name: ref.Name}, s)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading session %s/%s: %w", obj.GetNamespace(), ref.Name, err)
	case s.UID != ref.UID:
		return nil, nil
	}
	return s, nil
}

// runnerPods labels the platform's runner pods for this operator's cache.
func (a *adopter) runnerPods(ctx context.Context) error {
	pods := &corev1.PodList{}
	sel := selector(requirement(v1alpha1.LabelApp, selection.Equals, v1alpha1.RunnerAppName),
		requirement(v1alpha1.LabelRunner, selection.DoesNotExist))
	return a.list(ctx, pods, sel, func() error {
		for i := range pods.Items {
			pod := &pods.Items[i]
			s, err := a.controllingSession(ctx, pod)
			if err != nil {
				return err
			}
			if s == nil || pod.Name != v1alpha1.RunnerPodName(s.Name) {
				a.skip(pod, "runner pod", "not controlled by the session its name implies")
				continue
			}
			patch := map[string]any{"metadata": map[string]any{"resourceVersion": pod.ResourceVersion,
				"labels": v1alpha1.RunnerLabels(s.Name)}}
			if err := a.patch(ctx, pod, patch, "runner pod"); err != nil {
				return err
			}
			a.res.RunnerPods++
		}
		return nil
	})
}

// runnerServices gives the platform's runner Services (controlled by the runner
// pod) the session as controller and the runner app label.
func (a *adopter) runnerServices(ctx context.Context) error {
	services := &corev1.ServiceList{}
	sel := selector(requirement(v1alpha1.LabelApp, selection.Equals, platformServiceApp),
		requirement(v1alpha1.LabelSession, selection.Exists))
	return a.list(ctx, services, sel, func() error {
		for i := range services.Items {
			svc := &services.Items[i]
			s, err := a.sessionThroughPod(ctx, svc)
			if err != nil {
				return err
			}
			if s == nil || svc.Name != v1alpha1.ServiceName(s.Name) {
				a.skip(svc, "runner Service", "not controlled by the session's runner pod")
				continue
			}
			refs := slices.DeleteFunc(slices.Clone(svc.OwnerReferences), func(r metav1.OwnerReference) bool {
				return r.Controller != nil && *r.Controller
			})
			patch := map[string]any{"metadata": map[string]any{"resourceVersion": svc.ResourceVersion,
				"labels":          map[string]string{v1alpha1.LabelApp: v1alpha1.RunnerAppName, v1alpha1.LabelSession: s.Name},
				"ownerReferences": append(refs, session.OwnerReference(s))}}
			if err := a.patch(ctx, svc, patch, "runner Service"); err != nil {
				return err
			}
			a.res.RunnerServices++
		}
		return nil
	})
}

// sessionThroughPod returns the session controlling the pod controlling obj.
func (a *adopter) sessionThroughPod(ctx context.Context, obj metav1.Object) (*v1alpha1.AgenticSession, error) {
	ref := metav1.GetControllerOf(obj)
	if ref == nil || ref.Kind != "Pod" || ref.APIVersion != "v1" {
		return nil, nil
	}
	pod := &corev1.Pod{}
	err := a.c.Get(ctx, types.NamespacedName{Namespace: obj.GetNamespace(), Name: ref.Name}, pod)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading pod %s/%s: %w", obj.GetNamespace(), ref.Name, err)
	case pod.UID != ref.UID:
		return nil, nil
	}
	s, err := a.controllingSession(ctx, pod)
	if s == nil || err != nil || pod.Name != v1alpha1.RunnerPodName(s.Name) {
		return nil, err
	}
	return s, nil
}

// projectSettings returns the namespace's ProjectSettings, nil when it has none.
func (a *adopter) projectSettings(ctx context.Context, ns string) (*v1alpha1.ProjectSettings, error) {
	ps := &v1alpha1.ProjectSettings{}
	err := a.c.Get(ctx, types.NamespacedName{Namespace: ns, Name: v1alpha1.ProjectSettingsName}, ps)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading ProjectSettings of %s: %w", ns, err)
	}
	return ps, nil
}

// groupBindings adopts the platform's group RoleBindings that are exactly what
// a groupAccess entry asks for.
func (a *adopter) groupBindings(ctx context.Context) error {
	bindings := &rbacv1.RoleBindingList{}
	sel := selector(requirement(v1alpha1.LabelManaged, selection.Equals, v1alpha1.ValueTrue),
		requirement(v1alpha1.LabelGroupAccess, selection.DoesNotExist))
	return a.list(ctx, bindings, sel, func() error {
		for i := range bindings.Items {
			rb := &bindings.Items[i]
			if metav1.GetControllerOf(rb) != nil {
				continue // someone's, or the trigger's (its ProjectSettings controls it)
			}
			ps, err := a.projectSettings(ctx, rb.Namespace)
			if err != nil {
				return err
			}
			var want *rbacv1.RoleBinding
			if ps != nil {
				for _, b := range project.DesiredBindings(ps) {
					if b.Name == rb.Name {
						want = b
					}
				}
			}
			if want == nil || want.RoleRef != rb.RoleRef || !slices.Equal(want.Subjects, rb.Subjects) {
				a.skip(rb, "group RoleBinding", "not what a groupAccess entry of the ProjectSettings asks for")
				continue
			}
			patch := map[string]any{"metadata": map[string]any{"resourceVersion": rb.ResourceVersion,
				"labels":          map[string]string{v1alpha1.LabelGroupAccess: v1alpha1.ValueTrue},
				"ownerReferences": append(slices.Clone(rb.OwnerReferences), project.OwnerReference(ps))}}
			if err := a.patch(ctx, rb, patch, "group RoleBinding"); err != nil {
				return err
			}
			a.res.GroupRoleBindings++
		}
		return nil
	})
}

// networkPolicies gives the platform's runner NetworkPolicy its ProjectSettings
// as controller; the operator then keeps its spec.
func (a *adopter) networkPolicies(ctx context.Context) error {
	policies := &networkingv1.NetworkPolicyList{}
	sel := selector(requirement(project.LabelManagedBy, selection.Equals, "operator"))
	return a.list(ctx, policies, sel, func() error {
		for i := range policies.Items {
			np := &policies.Items[i]
			if np.Name != project.NetworkPolicyName || metav1.GetControllerOf(np) != nil {
				continue
			}
			ps, err := a.projectSettings(ctx, np.Namespace)
			if err != nil {
				return err
			}
			if ps == nil {
				a.skip(np, "NetworkPolicy", "the namespace has no ProjectSettings")
				continue
			}
			patch := map[string]any{"metadata": map[string]any{"resourceVersion": np.ResourceVersion,
				"labels":          map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue},
				"ownerReferences": append(slices.Clone(np.OwnerReferences), project.OwnerReference(ps))}}
			if err := a.patch(ctx, np, patch, "NetworkPolicy"); err != nil {
				return err
			}
			a.res.NetworkPolicies++
		}
		return nil
	})
}

// patch writes a merge patch locked to the version listed (a changed object is
// an error: rerun the pass), or in a dry run only reports it.
func (a *adopter) patch(ctx context.Context, obj client.Object, patch map[string]any, what string) error {
	verb := "adopted"
	if a.opts.DryRun {
		verb = "would adopt"
	} else {
		data, err := json.Marshal(patch)
		if err != nil {
			return fmt.Errorf("encoding patch of %s %s: %w", what, klog.KObj(obj), err)
		}
		if err := a.c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, data)); err != nil {
			return fmt.Errorf("adopting %s %s: %w", what, klog.KObj(obj), err)
		}
	}
	if a.opts.Out != nil {
		fmt.Fprintf(a.opts.Out, "%s %s %s\n", verb, what, klog.KObj(obj))
	}
	return nil
}

func (a *adopter) skip(obj metav1.Object, what, why string) {
	a.res.Skipped++
	if a.opts.Out != nil {
		fmt.Fprintf(a.opts.Out, "skipped %s %s: %s\n", what, klog.KObj(obj), why)
	}
}
