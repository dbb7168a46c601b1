package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/ambient-code/agentic-operator/hack/scale/cluster"
	"github.com/ambient-code/agentic-operator/hack/scale/heap"
	"github.com/ambient-code/agentic-operator/hack/scale/profile"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/kubeletsim"
)

// Active is what active sessions cost the shipped operator: heap and RSS per
// active session, how fast new sessions reach Running, its requests per session
// lifecycle, and how long a restarted operator takes to settle with them all.
type Active struct {
	// Point is the profile point loaded (its history); Loaded its active sessions.
	Point  string
	Loaded int
	// QPS and Burst are the operator's client-side limits (cmd/operator's: QPS -1,
	// no limiter); Workers its MaxConcurrentReconciles; Concurrency the creates in
	// flight.
	QPS                  float32
	Burst                int
	Workers, Concurrency int
	// Cores is runtime.NumCPU, for the share of the machine the processes used.
	Cores int
	// Baseline is the settled operator with the profile's active sessions.
	Baseline ActiveSample
	// Steps grow the active sessions to each of Config.ActiveSessions.
	Steps []ActiveStep
	// Lifted is one more step after the restart, by an operator with LiftedWorkers
	// workers per controller.
	Lifted        *ActiveStep    `json:",omitempty"`
	LiftedWorkers int            `json:",omitempty"`
	Lifecycle     *Lifecycle     `json:",omitempty"`
	Restart       *ActiveRestart `json:",omitempty"`
	// Sync is the first operator's cache sync; Startup its requests until
	// Baseline settled.
	Sync    time.Duration
	Startup map[string]int `json:",omitempty"`
}

// ActiveSample is the settled operator with Active sessions active.
type ActiveSample struct {
	Active                    int
	Settled                   bool
	Settle                    time.Duration
	HeapInuse, HeapAlloc, RSS []uint64
}

// ActiveStep is one growth of the active sessions, from the first create to the
// last Running, then settled and sampled.
type ActiveStep struct {
	ActiveSample
	// Created sessions, of which Running reached phase Running within the timeout;
	// Phases are the final phases when not all did.
	Created, Running int
	Phases           map[string]int `json:",omitempty"`
	// ToRunning is from the first create to the last session Running; Creates is
	// from the first create to the last create answered.
	ToRunning, Creates time.Duration
	// CPU seconds over ToRunning: kube-apiserver, etcd, operator (the child) and
	// bench (this process: the creates and the kubelet simulator).
	CPU map[string]float64
	// Requests are the operator's own over ToRunning, by "verb resource".
	Requests map[string]int
	// Queues are the operator's work queues over ToRunning, by controller.
	Queues map[string]*QueueStats `json:",omitempty"`
}

// Rate is sessions per second from the first create to the last Running.
func (s ActiveStep) Rate() float64 {
	if s.ToRunning <= 0 {
		return 0
	}
	return float64(s.Running) / s.ToRunning.Seconds()
}

// Lifecycle is the operator's requests over sessions created, run, and stopped
// (the desired-phase=Stopped annotation the backend writes): Stopping, runner pod
// deleted, Stopped.
type Lifecycle struct {
	Sessions, Running, Stopped int
	// Active is how many other sessions were active meanwhile.
	Active int
	Took   time.Duration
	// Requests are the operator's over Took and until it settled; Background are
	// its requests in the lifecycleQuiet before, when nothing was asked of it.
	Requests, Background map[string]int
	Phases               map[string]int `json:",omitempty"`
}

// PerSession is the count of key per lifecycle.
func (l *Lifecycle) PerSession(key string) float64 {
	if l == nil || l.Sessions == 0 {
		return 0
	}
	return float64(l.Requests[key]) / float64(l.Sessions)
}

// ActiveRestart is a fresh operator started with every active session in place.
type ActiveRestart struct {
	Active int
	// Stop is how long the old operator took to exit; Sync the new one's cache
	// sync, Settle from synced to settled.
	Stop, Sync, Settle time.Duration
	Settled            bool
	// Requests are the new operator's until settled; CPU seconds from start to
	// settled.
	Requests map[string]int
	CPU      map[string]float64
	Sample   ActiveSample
}

const (
	// activePrefix names the sessions created here; the kubelet simulator runs
	// only their pods, so the profile's sessions stay as loaded.
	activePrefix = "scale-active-"
	// activeLabel marks them, so that the bench's own cache of sessions holds
	// only them.
	activeLabel    = "scale.ambient-code.io/active"
	lifecycleQuiet = 3 * time.Second
)

// active runs the shipped operator in a child process beside the kubelet
// simulator in this process, grows the active sessions to each of
// cfg.ActiveSessions, counts a lifecycle's requests, and restarts the operator.
func (e *env) active(ctx context.Context, res *Results) error {
	if len(e.cfg.ActiveSessions) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The earlier phases may have left more than the profile's active sessions
	// (session starts, archive restarts): count what is active now.
	loaded, err := e.activeNow(ctx)
	if err != nil {
		return err
	}
	a := &Active{Point: e.loadedAt, Loaded: loaded, QPS: -1, Workers: shippedWorkers, Concurrency: e.cfg.Concurrency,
		Cores: goruntime.NumCPU()}
	res.Active = a
	req := activeRequest{Kubeconfig: e.cl.Kubeconfig, QPS: a.QPS, Workers: a.Workers, Quiet: e.cfg.Quiet, SettleTimeout: e.cfg.SettleTimeout,
		Samples: e.cfg.Samples, SampleInterval: e.cfg.SampleInterval, HeapProfiles: e.cfg.HeapProfiles}

	sim, err := activeKubelet(cluster.Fast(e.cl.Config), e.cl.Scheme, e.cfg.Log.WithName("kubelet-sim").V(2))
	if err != nil {
		return err
	}
	simDone := make(chan error, 1)
	go func() { simDone <- sim.Start(ctx) }()
	defer func() { cancel(); <-simDone }()
	if !sim.GetCache().WaitForCacheSync(ctx) {
		return fmt.Errorf("kubelet simulator cache did not sync")
	}

	op, err := startOperatorChild(ctx, req, e.cfg.Logs)
	if err != nil {
		return err
	}
	defer func() { _ = op.kill() }()
	a.Sync = op.Sync
	clock := cpuClock(childPIDs("kube-apiserver", "etcd"))
	if a.Baseline, err = settledSample(op, loaded, "baseline"); err != nil {
		return err
	}
	st, err := op.call("stats")
	if err != nil {
		return err
	}
	a.Startup = st.Requests
	e.cfg.Log.Info("Active sessions: baseline", "active", a.Baseline.Active, "heapInuseMiB", median(a.Baseline.HeapInuse)/mib)

	active, next := loaded, 0
	for _, target := range e.cfg.ActiveSessions {
		if target <= active {
			continue
		}
		names := make([]string, target-active)
		for k := range names {
			names[k] = fmt.Sprintf("%s%05d", activePrefix, next+k)
		}
		step, err := e.grow(ctx, sim.GetCache(), op, clock, names)
		if err != nil {
			return err
		}
		next += len(names)
		active += step.Running
		if step.ActiveSample, err = settledSample(op, active, strconv.Itoa(active)); err != nil {
			return err
		}
		a.Steps = append(a.Steps, step)
		e.cfg.Log.Info("Active sessions: step", "active", active, "created", step.Created, "running", step.Running,
			"toRunning", step.ToRunning.Round(time.Millisecond), "perSecond", step.Rate(), "cpu", step.CPU,
			"heapInuseMiB", median(step.HeapInuse)/mib, "rssMiB", median(step.RSS)/mib, "settle", step.Settle.Round(time.Millisecond))
	}
	if e.cfg.ActiveLifecycle > 0 {
		if a.Lifecycle, err = e.lifecycle(ctx, sim.GetCache(), op, active); err != nil {
			return err
		}
		e.cfg.Log.Info("Active sessions: lifecycle", "sessions", a.Lifecycle.Sessions, "stopped", a.Lifecycle.Stopped,
			"took", a.Lifecycle.Took.Round(time.Millisecond), "requests", a.Lifecycle.Requests, "background", a.Lifecycle.Background)
	}

	// Restart: the old operator stops, a fresh one starts with every session in place.
	r := &ActiveRestart{Active: active}
	t := time.Now()
	if err := op.stop(); err != nil {
		return fmt.Errorf("stopping the operator child: %w", err)
	}
	r.Stop = time.Since(t)
	clock2 := cpuClock(childPIDs("kube-apiserver", "etcd"))
	before := clock2.read()
	if op, err = startOperatorChild(ctx, req, e.cfg.Logs); err != nil {
		return err
	}
	clock2["operator"] = op.pid()
	r.Sync = op.Sync
	settled, err := op.call("settle")
	if err != nil {
		return err
	}
	r.Settled, r.Settle = settled.Settled, settled.Settle
	r.CPU = cpuSince(clock2.read(), before)
	if st, err = op.call("stats"); err != nil {
		return err
	}
	r.Requests = st.Requests
	if r.Sample, err = settledSample(op, active, "restarted"); err != nil {
		return err
	}
	a.Restart = r
	e.cfg.Log.Info("Active sessions: restart", "active", active, "sync", r.Sync.Round(time.Millisecond),
		"settle", r.Settle.Round(time.Millisecond), "settled", r.Settled, "cpu", r.CPU, "requests", r.Requests)
	if e.cfg.ActiveLiftedWorkers <= 0 || len(a.Steps) == 0 {
		return op.stop()
	}

	// Lifted: as many sessions again as the first step added, by an operator with
	// more workers.
	if err := op.stop(); err != nil {
		return fmt.Errorf("stopping the operator child: %w", err)
	}
	req.Workers = e.cfg.ActiveLiftedWorkers
	if op, err = startOperatorChild(ctx, req, e.cfg.Logs); err != nil {
		return err
	}
	if _, err := op.call("settle"); err != nil {
		return err
	}
	names := make([]string, a.Steps[0].Created)
	for k := range names {
		names[k] = fmt.Sprintf("%s%05d", activePrefix, next+k)
	}
	lifted, err := e.grow(ctx, sim.GetCache(), op, clock2, names)
	if err != nil {
		return err
	}
	active += lifted.Running
	if lifted.ActiveSample, err = settledSample(op, active, "lifted"); err != nil {
		return err
	}
	a.Lifted, a.LiftedWorkers = &lifted, req.Workers
	e.cfg.Log.Info("Active sessions: lifted workers", "workers", req.Workers, "active", active, "created", lifted.Created,
		"toRunning", lifted.ToRunning.Round(time.Millisecond), "perSecond", lifted.Rate(), "cpu", lifted.CPU)
	return op.stop()
}

// activeNow counts the sessions not archived and not terminal (listing only the
// unarchived: the history is thousands).
func (e *env) activeNow(ctx context.Context) (int, error) {
	sel, err := labels.Parse("!" + v1alpha1.LabelArchived)
	if err != nil {
		return 0, err
	}
	list := &v1alpha1.AgenticSessionList{}
	if err := e.c.List(ctx, list, client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return 0, fmt.Errorf("counting active sessions: %w", err)
	}
	var n int
	for _, s := range list.Items {
		if !s.Status.Phase.IsTerminal() {
			n++
		}
	}
	return n, nil
}

// settledSample waits for op to settle and samples its heap.
func settledSample(op *operatorChild, active int, profile string) (ActiveSample, error) {
	s := ActiveSample{Active: active}
	r, err := op.call("settle")
	if err != nil {
		return s, err
	}
	s.Settled, s.Settle = r.Settled, r.Settle
	if r, err = op.send(activeCommand{Op: "sample", Name: profile}); err != nil {
		return s, err
	}
	s.HeapInuse, s.HeapAlloc, s.RSS = r.HeapInuse, r.HeapAlloc, r.RSS
	return s, nil
}

// grow creates sessions names as the backend does (the profile's spec, in the
// profile's namespaces), Concurrency in flight, and waits until they run.
func (e *env) grow(ctx context.Context, sessions cache.Cache, op *operatorChild, clock cpuClock, names []string) (ActiveStep, error) {
	step := ActiveStep{Created: len(names)}
	clock["operator"], clock["bench"] = op.pid(), os.Getpid()
	before, err := op.call("stats")
	if err != nil {
		return step, err
	}
	cpu := clock.read()
	start := time.Now()
	profiled := e.profileAPIServer(ctx, fmt.Sprintf("active-%d-apiserver-cpu.pprof", len(names)))
	if err := e.createSessions(ctx, names, nil); err != nil {
		return step, err
	}
	step.Creates = time.Since(start)
	step.Running, step.Phases, err = waitPhase(ctx, sessions, names, v1alpha1.PhaseRunning, e.activeTimeout(len(names)))
	if err != nil {
		return step, err
	}
	step.ToRunning = time.Since(start)
	step.CPU = cpuSince(clock.read(), cpu)
	after, err := op.call("stats")
	if err != nil {
		return step, err
	}
	step.Requests, step.Queues = heap.Diff(after.Requests, before.Requests), after.Queues
	if err := <-profiled; err != nil {
		e.cfg.Log.Error(err, "Profiling kube-apiserver")
	}
	return step, nil
}

// profileAPIServer, with HeapProfiles set, writes a CPU profile of kube-apiserver
// over the next activeProfile (its /debug/pprof, on by default) to file there, to
// see what the creates cost it; the channel says when it is done.
func (e *env) profileAPIServer(ctx context.Context, file string) <-chan error {
	done := make(chan error, 1)
	if e.cfg.HeapProfiles == "" {
		done <- nil
		return done
	}
	go func() {
		data, err := e.core.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").
			Param("seconds", strconv.Itoa(int(activeProfile.Seconds()))).DoRaw(ctx)
		if err == nil {
			err = os.WriteFile(filepath.Join(e.cfg.HeapProfiles, file), data, 0o644)
		}
		done <- err
	}()
	return done
}

// activeProfile is how long kube-apiserver's CPU is profiled from a step's first
// create (a step that ends sooner waits for it).
const activeProfile = 10 * time.Second

func (e *env) activeTimeout(n int) time.Duration {
	// 5 sessions/s at the least, and never under the settle timeout.
	return max(e.cfg.SettleTimeout, time.Duration(n)*200*time.Millisecond)
}

// createSessions creates names, Concurrency at a time; annotations are set on each.
func (e *env) createSessions(ctx context.Context, names []string, annotations map[string]string) error {
	work := make(chan int)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range max(1, e.cfg.Concurrency) {
		wg.Go(func() {
			for k := range work {
				s := profile.Session(e.loaded, e.loaded.Sessions+k)
				s.Name, s.Annotations, s.Labels = names[k], annotations, map[string]string{activeLabel: "true"}
				if err := e.c.Create(ctx, s, client.FieldOwner(profile.ManagerCreator)); err != nil {
					select {
					case errs <- fmt.Errorf("creating session %s/%s: %w", s.Namespace, s.Name, err):
					default:
					}
				}
			}
		})
	}
	for k := range names {
		work <- k
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// waitPhase polls the bench's cache until every session of names is in phase, or
// timeout; it returns how many are, and the phases when not all are.
func waitPhase(ctx context.Context, c cache.Cache, names []string, phase v1alpha1.Phase, timeout time.Duration) (int, map[string]int, error) {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	deadline := time.Now().Add(timeout)
	for {
		list := &v1alpha1.AgenticSessionList{}
		if err := c.List(ctx, list, client.MatchingLabels{activeLabel: "true"}, client.UnsafeDisableDeepCopy); err != nil {
			return 0, nil, err
		}
		phases, in := map[string]int{}, 0
		for _, s := range list.Items {
			if want[s.Name] {
				phases[string(s.Status.Phase)]++
				if s.Status.Phase == phase {
					in++
				}
			}
		}
		if in == len(names) {
			return in, nil, nil
		}
		if time.Now().After(deadline) {
			return in, phases, nil
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return 0, nil, err
		}
	}
}

// lifecycle creates ActiveLifecycle sessions, waits until they run, asks each to
// stop as the backend does, and counts the operator's requests until it settles.
func (e *env) lifecycle(ctx context.Context, sessions cache.Cache, op *operatorChild, active int) (*Lifecycle, error) {
	l := &Lifecycle{Sessions: e.cfg.ActiveLifecycle, Active: active}
	names := make([]string, l.Sessions)
	for k := range names {
		names[k] = fmt.Sprintf("%slife-%04d", activePrefix, k)
	}
	quiet, err := op.call("stats")
	if err != nil {
		return nil, err
	}
	if err := sleep(ctx, lifecycleQuiet); err != nil {
		return nil, err
	}
	before, err := op.call("stats")
	if err != nil {
		return nil, err
	}
	l.Background = heap.Diff(before.Requests, quiet.Requests)
	start := time.Now()
	if err := e.createSessions(ctx, names, nil); err != nil {
		return nil, err
	}
	timeout := e.activeTimeout(len(names))
	if l.Running, l.Phases, err = waitPhase(ctx, sessions, names, v1alpha1.PhaseRunning, timeout); err != nil {
		return nil, err
	}
	patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`,
		v1alpha1.AnnotationDesiredPhase, v1alpha1.DesiredStopped))
	for k := range names {
		s := &v1alpha1.AgenticSession{}
		s.Name, s.Namespace = names[k], profile.Session(e.loaded, e.loaded.Sessions+k).Namespace
		if err := e.c.Patch(ctx, s, patch); err != nil {
			return nil, fmt.Errorf("stopping session %s: %w", s.Name, err)
		}
	}
	if l.Stopped, l.Phases, err = waitPhase(ctx, sessions, names, v1alpha1.PhaseStopped, timeout); err != nil {
		return nil, err
	}
	l.Took = time.Since(start)
	if _, err := op.call("settle"); err != nil {
		return nil, err
	}
	after, err := op.call("stats")
	if err != nil {
		return nil, err
	}
	l.Requests = heap.Diff(after.Requests, before.Requests)
	return l, nil
}

// activeKubelet is test/kubeletsim's Simulator for the runner pods of the sessions
// created here, in every namespace, with a cache of those sessions (by activeLabel)
// to see their phases. It does not check the pods as the runner would (the
// session-starts phase does): here it stands for the cluster's kubelets, whose
// reads are not this API server's load.
func activeKubelet(cfg *rest.Config, scheme *runtime.Scheme, log logr.Logger) (manager.Manager, error) {
	sel := labels.SelectorFromSet(labels.Set{activeLabel: "true"})
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Logger: log,
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}:              {Label: v1alpha1.RunnerPodSelector()},
			&v1alpha1.AgenticSession{}: {Label: sel, Transform: phaseOnly},
		}},
		Controller: config.Controller{SkipNameValidation: ptr.To(true), MaxConcurrentReconciles: 8},
		Metrics:    metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"})
	if err != nil {
		return nil, err
	}
	if _, err := mgr.GetCache().GetInformer(context.Background(), &v1alpha1.AgenticSession{}); err != nil {
		return nil, err
	}
	sim := &kubeletsim.Simulator{Client: mgr.GetClient()}
	err = ctrl.NewControllerManagedBy(mgr).Named("scale-active-kubelet-sim").For(&corev1.Pod{}).
		WithEventFilter(predicate.NewPredicateFuncs(func(o client.Object) bool { return strings.HasPrefix(o.GetName(), activePrefix) })).
		Complete(sim)
	return mgr, err
}

// phaseOnly keeps of a session what waitPhase reads (name, namespace, labels,
// phase): the bench's cache of thousands of sessions stays small and cheap to list.
func phaseOnly(obj any) (any, error) {
	s, ok := obj.(*v1alpha1.AgenticSession)
	if !ok {
		return obj, nil
	}
	slim := &v1alpha1.AgenticSession{}
	slim.Name, slim.Namespace, slim.Labels, slim.ResourceVersion = s.Name, s.Namespace, s.Labels, s.ResourceVersion
	slim.Status.Phase = s.Status.Phase
	return slim, nil
}

// median of samples, 0 for none.
func median(v []uint64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return float64(s[len(s)/2])
}
