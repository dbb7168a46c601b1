package profile

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// The field managers of the two writers of every object, so that managedFields hold
// two entries as on the platform: the creator and the status writer.
const (
	ManagerCreator  = "ambient-backend"
	ManagerOperator = "ambient-operator"
	ManagerKubelet  = "kubelet"
	ManagerReplicas = "kube-controller-manager"
)

// Loader writes a profile into a control plane.
type Loader struct {
	// Core writes namespaces and pods (protobuf is fine and faster).
	Core kubernetes.Interface
	// Client writes AgenticSessions and ProjectSettings.
	Client client.Client
	// Concurrency bounds the requests in flight (default 32).
	Concurrency int
	// Now is the clock for active sessions' times (default time.Now).
	Now func() time.Time
	Log logr.Logger
}

// Loaded counts what one Load created; objects that already existed are skipped.
type Loaded struct {
	Namespaces, ProjectSettings, Sessions, RunnerPods, SystemPods int64
	// Identities counts active sessions given their ServiceAccount, RoleBinding
	// and token Secret.
	Identities int64
	// Requests is the number of API writes made.
	Requests int64
	Duration time.Duration
}

func (l Loaded) String() string {
	return fmt.Sprintf("created %d namespaces, %d ProjectSettings, %d sessions, %d runner identities, %d runner pods, %d system pods with %d writes in %s (%.0f writes/s)",
		l.Namespaces, l.ProjectSettings, l.Sessions, l.Identities, l.RunnerPods, l.SystemPods, l.Requests, l.Duration.Round(time.Millisecond),
		float64(l.Requests)/max(l.Duration.Seconds(), 1e-9))
}

// Load creates every object of c that does not exist yet: namespaces, then
// ProjectSettings, then sessions with their status and runner pods, then system pods.
func (ld *Loader) Load(ctx context.Context, c Counts) (Loaded, error) {
	if err := c.Validate(); err != nil {
		return Loaded{}, err
	}
	var out Loaded
	start := time.Now()
	steps := []struct {
		what string
		n    int
		one  func(context.Context, int) (bool, error)
		done *int64
	}{
		{"namespaces", c.Namespaces, func(ctx context.Context, j int) (bool, error) { return ld.namespace(ctx, c, j, &out) }, &out.Namespaces},
		{"ProjectSettings", c.Managed, func(ctx context.Context, j int) (bool, error) { return ld.projectSettings(ctx, j, &out) }, &out.ProjectSettings},
		{"sessions", c.Sessions, func(ctx context.Context, i int) (bool, error) { return ld.session(ctx, c, i, &out) }, &out.Sessions},
		{"system pods", c.SystemPods, func(ctx context.Context, k int) (bool, error) { return ld.systemPod(ctx, c, k, &out) }, &out.SystemPods},
	}
	for _, s := range steps {
		t := time.Now()
		if err := ld.each(ctx, s.n, s.one, s.done); err != nil {
			return out, fmt.Errorf("loading %s: %w", s.what, err)
		}
		ld.Log.V(1).Info("Loaded", "what", s.what, "created", atomic.LoadInt64(s.done), "of", s.n, "took", time.Since(t).Round(time.Millisecond))
	}
	out.Duration = time.Since(start)
	return out, nil
}

// each runs one(i) for i in [0, n) with bounded concurrency, counting creations.
func (ld *Loader) each(ctx context.Context, n int, one func(context.Context, int) (bool, error), created *int64) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, ld.concurrency()))
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			made, err := one(ctx, i)
			if made {
				atomic.AddInt64(created, 1)
			}
			return err
		})
	}
	return g.Wait()
}

func (ld *Loader) namespace(ctx context.Context, c Counts, j int, out *Loaded) (bool, error) {
	ns := Namespace(c, j)
	_, err := ld.Core.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{FieldManager: ManagerCreator})
	made, err := created(err, &out.Requests, "namespace "+ns.Name)
	if !made || err != nil || j >= c.Managed {
		return made, err
	}
	// A platform project holds its runners' API keys: without them a session
	// the operator starts waits in Pending.
	keys := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: RunnerSecretsName, Namespace: ns.Name},
		StringData: map[string]string{"ANTHROPIC_API_KEY": "sk-ant-profile-" + ns.Name}}
	_, err = ld.Core.CoreV1().Secrets(ns.Name).Create(ctx, keys, metav1.CreateOptions{FieldManager: ManagerCreator})
	_, err = created(err, &out.Requests, "Secret "+RunnerSecretsName+" in "+ns.Name)
	return true, err
}

// RunnerSecretsName is the Secret of runner API keys every managed project has.
const RunnerSecretsName = "ambient-runner-secrets"

func (ld *Loader) projectSettings(ctx context.Context, j int, out *Loaded) (bool, error) {
	ps := ProjectSettings(j)
	made, err := created(ld.Client.Create(ctx, ps, client.FieldOwner(ManagerCreator)), &out.Requests, "ProjectSettings in "+ps.Namespace)
	if !made || err != nil {
		return made, err
	}
	ps.Status = v1alpha1.ProjectSettingsStatus{GroupBindingsCreated: len(ps.Spec.GroupAccess), ScheduledSessionRBACReady: new(true), LimitRangeReady: new(true)}
	atomic.AddInt64(&out.Requests, 1)
	return true, wrap(ld.Client.Status().Update(ctx, ps, client.FieldOwner(ManagerOperator)), "ProjectSettings status in "+ps.Namespace)
}

// session creates session i as its creator would, then writes its status as the
// operator would, then (when active) its runner identity and runner pod as the
// operator creates them, and the pod's kubelet status.
func (ld *Loader) session(ctx context.Context, c Counts, i int, out *Loaded) (bool, error) {
	s := Session(c, i)
	made, err := created(ld.Client.Create(ctx, s, client.FieldOwner(ManagerCreator)), &out.Requests, "session "+s.Namespace+"/"+s.Name)
	if !made || err != nil {
		return made, err
	}
	s.Status = SessionStatus(c, s, i, ld.now())
	atomic.AddInt64(&out.Requests, 1)
	if err := ld.Client.Status().Update(ctx, s, client.FieldOwner(ManagerOperator)); err != nil {
		return true, wrap(err, "status of session "+s.Namespace+"/"+s.Name)
	}
	a, active := ActiveIndex(c, i)
	if !active {
		return true, nil
	}
	started := ld.now() // a Pending session has no startTime yet
	if s.Status.StartTime != nil {
		started = s.Status.StartTime.Time
	}
	if err := ld.identity(ctx, s, i, started); err != nil {
		return true, err
	}
	atomic.AddInt64(&out.Requests, 3)
	atomic.AddInt64(&out.Identities, 1)
	pods := ld.Core.CoreV1().Pods(s.Namespace)
	pod, err := pods.Create(ctx, RunnerPod(s, a), metav1.CreateOptions{FieldManager: ManagerOperator})
	atomic.AddInt64(&out.Requests, 2)
	if err != nil {
		return true, wrap(err, "runner pod of "+s.Name)
	}
	pod.Status = RunnerPodStatus(pod, s.Status.Phase, a, started)
	if _, err := pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{FieldManager: ManagerKubelet}); err != nil {
		return true, wrap(err, "status of runner pod "+pod.Name)
	}
	atomic.AddInt64(&out.RunnerPods, 1)
	return true, nil
}

// identity creates session i's ServiceAccount, RoleBinding and token Secret, in the
// order operator/runneridentity does.
func (ld *Loader) identity(ctx context.Context, s *v1alpha1.AgenticSession, i int, refreshed time.Time) error {
	id := RunnerIdentity(s, i, refreshed)
	opts := metav1.CreateOptions{FieldManager: ManagerOperator}
	if _, err := ld.Core.CoreV1().ServiceAccounts(s.Namespace).Create(ctx, id.ServiceAccount, opts); err != nil {
		return wrap(err, "ServiceAccount of "+s.Name)
	}
	if _, err := ld.Core.RbacV1().RoleBindings(s.Namespace).Create(ctx, id.RoleBinding, opts); err != nil {
		return wrap(err, "RoleBinding of "+s.Name)
	}
	_, err := ld.Core.CoreV1().Secrets(s.Namespace).Create(ctx, id.TokenSecret, opts)
	return wrap(err, "token Secret of "+s.Name)
}

func (ld *Loader) systemPod(ctx context.Context, c Counts, k int, out *Loaded) (bool, error) {
	want := SystemPod(c, k)
	pods := ld.Core.CoreV1().Pods(want.Namespace)
	pod, err := pods.Create(ctx, want, metav1.CreateOptions{FieldManager: ManagerReplicas})
	if made, err := created(err, &out.Requests, "system pod "+want.Name); !made || err != nil {
		return made, err
	}
	pod.Status = SystemPodStatus(pod, k, ld.now().Add(-48*time.Hour))
	atomic.AddInt64(&out.Requests, 1)
	_, err = pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{FieldManager: ManagerKubelet})
	return true, wrap(err, "status of system pod "+pod.Name)
}

// DeleteSystemPods removes system pods [from, to) of c at once (no kubelet would ever
// confirm a graceful deletion), to step back from a larger pod profile.
func (ld *Loader) DeleteSystemPods(ctx context.Context, c Counts, from, to int) error {
	var deleted int64
	return ld.each(ctx, to-from, func(ctx context.Context, n int) (bool, error) {
		pod := SystemPod(c, from+n)
		err := ld.Core.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64(0))})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, wrap(err, "deleting system pod "+pod.Name)
	}, &deleted)
}

func (ld *Loader) concurrency() int {
	if ld.Concurrency > 0 {
		return ld.Concurrency
	}
	return 32
}

func (ld *Loader) now() time.Time {
	if ld.Now != nil {
		return ld.Now()
	}
	return time.Now()
}

// created counts a create request and reports whether it made the object; an object
// that already exists is not an error (loads are incremental).
func created(err error, requests *int64, what string) (bool, error) {
	atomic.AddInt64(requests, 1)
	if apierrors.IsAlreadyExists(err) {
		return false, nil
	}
	return err == nil, wrap(err, "creating "+what)
}

func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
