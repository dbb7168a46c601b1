package operator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/conditions"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/operator/project"
	"github.com/ambient-code/agentic-operator/operator/runner"
	"github.com/ambient-code/agentic-operator/operator/runner/runnertest"
	"github.com/ambient-code/agentic-operator/operator/session"
	"github.com/ambient-code/agentic-operator/test/identity"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// conflictGrace is the operator's grace in these tests: long enough to see the
// condition before the failure, short enough to wait for.
const conflictGrace = 3 * time.Second

// ownership is a control plane with an operator whose runner calls all go to a
// fake runner, so a call that should not happen is seen.
type ownership struct {
	*suite
	runner *runnertest.Server
}

// TestRunnerNamesAndOwnership: the operator uses only the pods, Services and
// RoleBindings its sessions and ProjectSettings control, never sends runner calls
// to a Service it cannot trust, and fails at once a session whose names cannot
// work.
func TestRunnerNamesAndOwnership(t *testing.T) {
	dumpLogsOnFailure(t)
	env := testenv.Start(t, testenv.Options{})
	o := &ownership{suite: &suite{env: env, kubelet: kubelet{c: env.Client}}, runner: runnertest.New(t, nil)}
	// Under the shipped roles: the ownership checks' reads must be granted.
	o.operator = identity.Shipped(t, env)
	o.mgr, _ = startOperator(t, o.operator.Config(env.Config), manager.Options{
		MaxConcurrentReconciles: 2,
		Runner:                  session.RunnerConfig{Platform: testenv.PlatformConfig(), ConflictGrace: conflictGrace},
		RunnerClient:            runner.Options{URLTemplate: o.runner.URLTemplate()},
	})

	t.Run("Ownership", o.ownership)
	t.Run("Names", o.names)
	t.Run("RoleBindings", o.roleBindings)
}

// refusedThenFailed waits for the session's condition typ to be False with
// reason, then for the Failed phase, and checks the grace ran in between (from
// the condition's lastTransitionTime, seconds precision) and that Ready carries
// the refusal's message. It returns the failed session.
func (o *ownership) refusedThenFailed(t *testing.T, ns, name, typ, reason string, graced bool) *v1alpha1.AgenticSession {
	t.Helper()
	testenv.Eventually(t, waitTimeout, typ+" False "+reason, o.conditionIs(ns, name, typ, metav1.ConditionFalse, reason))
	testenv.Eventually(t, waitTimeout, "session Failed", phaseIs(o.env.Client, ns, name, v1alpha1.PhaseFailed))
	s, err := getSession(context.Background(), o.env.Client, ns, name)
	require.NoError(t, err)
	c := conditions.FindSession(s.Status.Conditions, typ)
	require.NotNil(t, c)
	assert.Equal(t, reason, c.Reason)
	require.NotNil(t, c.LastTransitionTime)
	require.NotNil(t, s.Status.CompletionTime)
	waited := s.Status.CompletionTime.Sub(c.LastTransitionTime.Time)
	if graced {
		assert.GreaterOrEqual(t, waited, conflictGrace-time.Second, "failed only after the grace")
	} else {
		assert.Less(t, waited, conflictGrace, "failed at once")
	}
	ready := conditions.FindSession(s.Status.Conditions, session.CondReady)
	require.NotNil(t, ready)
	assert.Equal(t, metav1.ConditionFalse, ready.Status)
	assert.Equal(t, c.Message, ready.Message, "Ready says why the session failed")
	assertOnePerType(t, s.Status.Conditions)
	return s
}

func (o *ownership) conditionIs(ns, name, typ string, status metav1.ConditionStatus, reason string) func(context.Context) error {
	return func(ctx context.Context) error {
		s, err := getSession(ctx, o.env.Client, ns, name)
		if err != nil {
			return err
		}
		c := conditions.FindSession(s.Status.Conditions, typ)
		if c == nil {
			return fmt.Errorf("no %s condition (phase %q)", typ, s.Status.Phase)
		}
		if c.Status != status || c.Reason != reason {
			return fmt.Errorf("%s is %s/%s, want %s/%s", typ, c.Status, c.Reason, status, reason)
		}
		return nil
	}
}

// noRunnerPod checks that the operator made no runner pod for the session.
func (o *ownership) noRunnerPod(t *testing.T, ns, name string) {
	t.Helper()
	_, err := o.pod(context.Background(), ns, name)
	assert.True(t, apierrors.IsNotFound(err), "no runner pod was created: %v", err)
}

func (o *ownership) service(ctx context.Context, ns, name string) (*corev1.Service, error) {
	svc := &corev1.Service{}
	return svc, o.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.ServiceName(name)}, svc)
}

// squatService creates the session's Service name before the session, as any
// namespace member may.
func (o *ownership) squatService(t *testing.T, ns, name string, spec corev1.ServiceSpec) *corev1.Service {
	t.Helper()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.ServiceName(name),
		Labels: map[string]string{"made-by": "someone-else"}}, Spec: spec}
	require.NoError(t, o.env.Client.Create(context.Background(), svc))
	return svc
}

// untouched checks that obj is still the object the test made, unmodified.
func (o *ownership) untouched(t *testing.T, made client.Object, fresh client.Object) {
	t.Helper()
	require.NoError(t, o.env.Client.Get(context.Background(), client.ObjectKeyFromObject(made), fresh))
	assert.Equal(t, made.GetUID(), fresh.GetUID(), "%T %s not replaced", made, made.GetName())
	assert.Equal(t, made.GetResourceVersion(), fresh.GetResourceVersion(), "%T %s not modified", made, made.GetName())
}

func (o *ownership) ownership(t *testing.T) {
	const ns = "ownership"
	o.env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	ctx := context.Background()

	t.Run("an ExternalName Service made before the session is refused and the runner never called", func(t *testing.T) {
		const name = "external"
		made := o.squatService(t, ns, name, corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "collector.example.com"})
		createSession(t, o.env, ns, name)
		o.refusedThenFailed(t, ns, name, session.CondRunnerObjectsOwned, session.ReasonServiceNameTaken, true)
		o.noRunnerPod(t, ns, name)
		o.untouched(t, made, &corev1.Service{})
		assert.Empty(t, o.runner.CallsOf(ns+"/"+name))
		testenv.Eventually(t, waitTimeout, "events", o.eventsInclude(ns, name, session.ReasonServiceNameTaken, "Failed"))
		s, err := getSession(ctx, o.env.Client, ns, name)
		require.NoError(t, err)
		msg := conditions.FindSession(s.Status.Conditions, session.CondRunnerObjectsOwned).Message
		assert.Contains(t, msg, "Service session-external exists and is not controlled by this session")
		assert.Contains(t, msg, "delete the Service or recreate the session under another name")
	})

	t.Run("a squatted ClusterIP Service is refused and left alone", func(t *testing.T) {
		const name = "squatted-svc"
		made := o.squatService(t, ns, name, corev1.ServiceSpec{
			Selector: map[string]string{"app": "collector"},
			Ports:    []corev1.ServicePort{{Name: "agui", Port: 8001, TargetPort: intstr.FromInt32(9000)}},
		})
		createSession(t, o.env, ns, name)
		o.refusedThenFailed(t, ns, name, session.CondRunnerObjectsOwned, session.ReasonServiceNameTaken, true)
		o.noRunnerPod(t, ns, name)
		o.untouched(t, made, &corev1.Service{})
		assert.Empty(t, o.runner.CallsOf(ns+"/"+name))
	})

	t.Run("a squatted runner pod is refused and left alone", func(t *testing.T) {
		const name = "squatted-pod"
		// A plain pod, not labelled as a runner, so not in the operator's cache.
		made := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.RunnerPodName(name), Labels: map[string]string{"app": "mine"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.com/mine"}}},
		}
		require.NoError(t, o.env.Client.Create(ctx, made))
		createSession(t, o.env, ns, name)
		s := o.refusedThenFailed(t, ns, name, session.CondRunnerObjectsOwned, session.ReasonPodNameTaken, true)
		assert.Contains(t, conditions.FindSession(s.Status.Conditions, session.CondRunnerObjectsOwned).Message,
			"pod squatted-pod-runner exists and is not controlled by this session (it has no controller)")
		o.untouched(t, made, &corev1.Pod{})
		_, err := o.service(ctx, ns, name)
		assert.True(t, apierrors.IsNotFound(err), "nothing created for a session that cannot run: %v", err)
		testenv.Eventually(t, waitTimeout, "events", o.eventsInclude(ns, name, session.ReasonPodNameTaken, "Failed"))
	})

	t.Run("a squatter that goes within the grace lets the session run", func(t *testing.T) {
		const name = "squatter-leaves"
		made := o.squatService(t, ns, name, corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "collector.example.com"})
		createSession(t, o.env, ns, name)
		testenv.Eventually(t, waitTimeout, "refused", o.conditionIs(ns, name, session.CondRunnerObjectsOwned, metav1.ConditionFalse, session.ReasonServiceNameTaken))
		require.NoError(t, o.env.Client.Delete(ctx, made))
		testenv.Eventually(t, waitTimeout, "session Creating", phaseIs(o.env.Client, ns, name, v1alpha1.PhaseCreating))
		testenv.Eventually(t, waitTimeout, "resolved", o.conditionIs(ns, name, session.CondRunnerObjectsOwned, metav1.ConditionTrue, session.ReasonOwned))
		svc, err := o.service(ctx, ns, name)
		require.NoError(t, err)
		assert.Equal(t, corev1.ServiceTypeClusterIP, svc.Spec.Type)
	})

	t.Run("a Service replaced while the runner runs gets no runner call, even when it claims the session", func(t *testing.T) {
		const name = "replaced"
		pod := o.startRunning(t, ns, name)
		key := ns + "/" + name
		// Control: a repo added while the Service is the session's reaches the runner.
		o.addRepo(t, ns, name, "https://github.com/ambient-code/first.git")
		testenv.Eventually(t, waitTimeout, "the runner hears the first repo", func(context.Context) error {
			if len(o.runner.CallsOf(key)) == 0 {
				return fmt.Errorf("no call yet")
			}
			return nil
		})
		calls := len(o.runner.CallsOf(key))

		// The session's own Service, still controlled by it, turned into an
		// ExternalName one in place (a delete and re-create would race the
		// operator, which puts a deleted Service back at once).
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			svc, err := o.service(ctx, ns, name)
			if err != nil {
				return err
			}
			svc.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "collector.example.com"}
			return o.env.Client.Update(ctx, svc)
		})
		require.NoError(t, err)

		o.addRepo(t, ns, name, "https://github.com/ambient-code/second.git")
		o.refusedThenFailed(t, ns, name, session.CondRunnerObjectsOwned, session.ReasonServiceNotUsable, true)
		assert.Len(t, o.runner.CallsOf(key), calls, "no runner call once the Service is not the session's to call")
		testenv.Eventually(t, waitTimeout, "runner pod deleted", o.gone(&corev1.Pod{}, client.ObjectKeyFromObject(pod)))
		s, err := getSession(ctx, o.env.Client, ns, name)
		require.NoError(t, err)
		assert.Contains(t, conditions.FindSession(s.Status.Conditions, session.CondRunnerObjectsOwned).Message, "ExternalName")
	})
}

// addRepo appends a repo to the session's spec.
func (o *ownership) addRepo(t *testing.T, ns, name, url string) {
	t.Helper()
	ctx := context.Background()
	s, err := getSession(ctx, o.env.Client, ns, name)
	require.NoError(t, err)
	patched := s.DeepCopy()
	patched.Spec.Repos = append(patched.Spec.Repos, v1alpha1.RepoSpec{URL: url})
	require.NoError(t, o.env.Client.Patch(ctx, patched, client.MergeFrom(s)))
}

func (o *ownership) roleBindings(t *testing.T) {
	const ns = "ownership-rbac"
	ctx := context.Background()
	o.env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	testenv.Eventually(t, waitTimeout, "default ProjectSettings", func(ctx context.Context) error {
		_, err := o.settings(ctx, ns)
		return err
	})

	// Both grant what the entries would, to someone else: the unlabelled one
	// holds a desired name, the labelled one a name no entry asks for.
	grant := func(name string, labels map[string]string, role string) *rbacv1.RoleBinding {
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "someone"}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: project.ClusterRolePrefix + role},
		}
		require.NoError(t, o.env.Client.Create(ctx, rb))
		return rb
	}
	unlabelled := grant("devs-edit", nil, "edit")
	labelled := grant("ops-view", map[string]string{v1alpha1.LabelGroupAccess: v1alpha1.ValueTrue}, "view")

	setAccess := func(entries ...v1alpha1.GroupAccess) {
		ps, err := o.settings(ctx, ns)
		require.NoError(t, err)
		patched := ps.DeepCopy()
		patched.Spec.GroupAccess = append([]v1alpha1.GroupAccess{}, entries...)
		require.NoError(t, o.env.Client.Patch(ctx, patched, client.MergeFrom(ps)))
	}
	setAccess(v1alpha1.GroupAccess{GroupName: "devs", Role: "edit"}, v1alpha1.GroupAccess{GroupName: "qa", Role: "view"})
	// qa-view is the operator's; it is made after devs-edit (bindings go in name
	// order), so once it exists devs-edit has been dealt with.
	testenv.Eventually(t, waitTimeout, "qa-view created", func(ctx context.Context) error {
		return o.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "qa-view"}, &rbacv1.RoleBinding{})
	})
	o.untouched(t, unlabelled, &rbacv1.RoleBinding{})
	o.untouched(t, labelled, &rbacv1.RoleBinding{})
	testenv.Eventually(t, waitTimeout, "the taken name reported", func(ctx context.Context) error {
		return o.settingsEventsInclude(ctx, ns, "RoleBindingNameTaken")
	})
	ps, err := o.settings(ctx, ns)
	require.NoError(t, err)
	assert.Equal(t, 1, ps.Status.GroupBindingsCreated, "only the binding the operator controls counts")

	// Removing every entry deletes the operator's binding and neither of the others.
	setAccess()
	testenv.Eventually(t, waitTimeout, "qa-view deleted", o.gone(&rbacv1.RoleBinding{}, types.NamespacedName{Namespace: ns, Name: "qa-view"}))
	o.untouched(t, unlabelled, &rbacv1.RoleBinding{})
	o.untouched(t, labelled, &rbacv1.RoleBinding{})
}

// settingsEventsInclude checks for an event of reason about the namespace's ProjectSettings.
func (o *ownership) settingsEventsInclude(ctx context.Context, ns, reason string) error {
	var list eventsv1.EventList
	if err := o.env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return err
	}
	for _, e := range list.Items {
		if e.Regarding.Kind == v1alpha1.KindProjectSettings && e.Reason == reason {
			if e.Type != corev1.EventTypeWarning {
				return fmt.Errorf("event %s is %s, want Warning", reason, e.Type)
			}
			return nil
		}
	}
	return fmt.Errorf("no %s event about the ProjectSettings in %s", reason, ns)
}
