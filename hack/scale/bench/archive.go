package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ambient-code/agentic-operator/certs"
	"github.com/ambient-code/agentic-operator/hack/scale/cluster"
	"github.com/ambient-code/agentic-operator/hack/scale/profile"
	"github.com/ambient-code/agentic-operator/hack/scale/webhookload"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/archive"
	"github.com/ambient-code/agentic-operator/test/manifests"
)

// Archive is what the archiving measurements found.
type Archive struct {
	// Adoptions are the `operator archive` passes, one per point, run after the
	// profile is loaded and before any configuration starts.
	Adoptions []Adoption
	// Restarts are restart requests on archived sessions, by WithWebhook and
	// WithoutWebhook (configurations uninstalled: only the operator's watch of
	// archived sessions brings them back).
	Restarts map[string][]Restart
	// Passes are the archive watch's paginated passes during the restart runs, by
	// reason (ambient_operator_archive_passes_total: start, expired, namespace),
	// and Restored the sessions it brought back, by how
	// (ambient_operator_archive_restored_total{by}).
	Passes, Restored map[string]float64
}

// Adoption is one adoption pass.
type Adoption struct {
	Point  string
	Result archive.AdoptResult
	Took   time.Duration
	// Listed is how many sessions the operator's informer lists after it: those
	// without the archived label.
	Listed int
}

// Restart is one restart request: from the write to the archived label gone, and
// to the operator acting on it (status.phase no longer terminal).
type Restart struct {
	Session            string
	Unarchived, Acting time.Duration
}

// adopt runs the adoption pass the README asks for before the operator's first
// start; the naive and scoped configurations ignore the label.
func (e *env) adopt(ctx context.Context, res *Results, label string) error {
	start := time.Now()
	r, err := archive.Run(ctx, cluster.Fast(e.cl.Config), archive.AdoptOptions{Workers: 16})
	if err != nil {
		return fmt.Errorf("adoption at %s: %w", label, err)
	}
	a := Adoption{Point: label, Result: r, Took: time.Since(start)}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.KindAgenticSession + "List"))
	for cont := ""; ; cont = list.Continue {
		if err := e.c.List(ctx, list, client.MatchingLabelsSelector{Selector: v1alpha1.NotArchivedSelector()},
			client.Limit(archive.DefaultPageSize), client.Continue(cont)); err != nil {
			return fmt.Errorf("listing unarchived sessions: %w", err)
		}
		a.Listed += len(list.Items)
		if list.Continue == "" {
			break
		}
	}
	e.cfg.Log.Info("Adopted", "point", label, "scanned", r.Scanned, "archived", r.ByReason[archive.Archivable],
		"listed", a.Listed, "took", a.Took.Round(time.Millisecond))
	res.Archive.Adoptions = append(res.Archive.Adoptions, a)
	return nil
}

// restarts runs the shipped operator in this process and times restart requests on
// archived sessions, first with the webhook binary behind the shipped
// configurations, then without them, when only the operator's metadata-only watch
// of archived sessions sees the request.
func (e *env) restarts(ctx context.Context, res *Results) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	passes, restored := archiveCounts()
	mgr, err := shippedOperator(cluster.Fast(e.cl.Config))
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() { cancel(); <-done }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return fmt.Errorf("operator caches did not sync")
	}
	defer func() {
		p, r := archiveCounts()
		res.Archive.Passes, res.Archive.Restored = minus(p, passes), minus(r, restored)
	}()

	dir, err := os.MkdirTemp("", "scale-archive-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ca, _, err := certs.GenerateDir(dir, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	if err != nil {
		return err
	}
	addr, err := webhookload.FreeAddr()
	if err != nil {
		return err
	}
	hook, err := webhookload.StartWebhook(ctx, filepath.Join(e.cfg.Root, "bin", "webhook"), addr, dir, e.cfg.Logs)
	if err != nil {
		return err
	}
	defer hook.Stop()
	hooks, err := manifests.InstallWebhooks(ctx, e.c, e.core, e.cfg.Root, filepath.Join(e.cfg.Root, "bin", "kubectl"),
		"https://"+addr, ca.CertPEM, profile.ManagedNamespace(0))
	if err != nil {
		return err
	}
	// Uninstalled before the webhook stops, also on an early return: later runs must
	// not meet fail-closed configurations pointing at nothing.
	defer func() { _ = hooks.Uninstall(ctx) }()

	res.Archive.Restarts = map[string][]Restart{}
	up, down := max(2, 2*e.cfg.Samples), max(1, e.cfg.Samples)
	keys := e.oldestTerminalSessions(up + down)
	if len(keys) < up+down {
		return fmt.Errorf("only %d archived sessions to restart, want %d", len(keys), up+down)
	}
	for n, key := range keys {
		how := WithWebhook
		if n == up {
			if err := hooks.Uninstall(ctx); err != nil {
				return err
			}
		}
		if n >= up {
			how = WithoutWebhook
		}
		r, err := e.restart(ctx, key)
		if err != nil {
			return fmt.Errorf("restart %s (%s): %w", key, how, err)
		}
		e.cfg.Log.Info("Restart acted on", "session", key, "how", how, "unarchived", r.Unarchived, "acting", r.Acting)
		res.Archive.Restarts[how] = append(res.Archive.Restarts[how], r)
	}
	return nil
}

// restart asks for a restart of key and polls the API server until the operator
// acts on it.
func (e *env) restart(ctx context.Context, key client.ObjectKey) (Restart, error) {
	r := Restart{Session: key.String()}
	patch := client.RawPatch(types.MergePatchType,
		[]byte(`{"metadata":{"annotations":{"`+v1alpha1.AnnotationDesiredPhase+`":"Running"}}}`))
	start := time.Now()
	s := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	if err := e.c.Patch(ctx, s, patch); err != nil {
		return r, err
	}
	deadline := start.Add(time.Minute)
	for {
		if r.Unarchived == 0 && !v1alpha1.IsArchived(s.Labels) {
			r.Unarchived = time.Since(start)
		}
		if !s.Status.Phase.IsTerminal() {
			r.Acting = time.Since(start)
			return r, nil
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("not acted on after %s (phase %s, labels %v)", time.Since(start), s.Status.Phase, s.Labels)
		}
		time.Sleep(10 * time.Millisecond)
		if err := e.c.Get(ctx, key, s); err != nil {
			return r, err
		}
	}
}

// oldestTerminalSessions names n archived sessions, oldest first, so that they
// stay clear of the newest ones the runs through the API server use.
func (e *env) oldestTerminalSessions(n int) []client.ObjectKey {
	var keys []client.ObjectKey
	for i := 0; i < e.loaded.Sessions && len(keys) < n; i++ {
		if _, active := profile.ActiveIndex(e.loaded, i); !active {
			keys = append(keys, client.ObjectKey{Namespace: profile.SessionNamespace(e.loaded, i), Name: profile.SessionName(i)})
		}
	}
	return keys
}

// archiveCounts reads the archive watch's counters from this process's metrics
// registry (the operator runs here): passes by reason, restored sessions by how.
func archiveCounts() (passes, restored map[string]float64) {
	passes, restored = map[string]float64{}, map[string]float64{}
	fams, err := metrics.Registry.Gather()
	if err != nil {
		return passes, restored
	}
	for _, f := range fams {
		into, label := map[string]map[string]float64{
			"ambient_operator_archive_passes_total":   passes,
			"ambient_operator_archive_restored_total": restored,
		}[f.GetName()], map[string]string{
			"ambient_operator_archive_passes_total":   "reason",
			"ambient_operator_archive_restored_total": "by",
		}[f.GetName()]
		if into == nil {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					into[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return passes, restored
}

func minus(after, before map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		out[k] = v - before[k]
	}
	return out
}
