package archive_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/archive"
	opcache "github.com/ambient-code/agentic-operator/operator/cache"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// history is what the adoption part stores: 1,000 sessions of which only the
// first 900 may be archived.
const (
	historySize = 1000
	archivable  = 900 // Stopped, Completed or Failed, nothing left
	active      = 40  // Pending, Creating, Running, Stopping
	restarting  = 30  // terminal with desired-phase=Running (I4)
	leftovers   = 30  // terminal with a runner pod or a Service left
	pageSize    = 100
)

func historyName(i int) string { return fmt.Sprintf("h-%04d", i) }

// adoption runs `operator archive` (the built binary, with the kubeconfig like the
// operator) on a namespace of history the operator does not watch.
func (s *suite) adoption(t *testing.T) {
	const ns = "history"
	s.env.CreateNamespace(t, ns, nil)
	ctx := context.Background()
	s.storeHistory(t, ns)
	want := make([]string, archivable)
	for i := range want {
		want[i] = historyName(i)
	}

	args := []string{"--kubeconfig", s.env.Kubeconfig, "--namespace", ns, "--page-size", strconv.Itoa(pageSize)}
	counts, lines := runCommand(t, "archive", append(args, "--dry-run"))
	assert.Equal(t, map[string]int{"scanned": historySize, "wouldArchive": archivable, "notTerminal": active,
		"restartPending": restarting, "runnerObjectLeft": leftovers, "beingDeleted": 0, "changedWhileArchiving": 0}, counts)
	assert.Equal(t, want, namesIn(lines, "would archive "+ns+"/"))
	assert.Empty(t, s.archivedNames(t, ns), "a dry run writes nothing")

	counts, lines = runCommand(t, "archive", args)
	assert.Equal(t, map[string]int{"scanned": historySize, "archived": archivable, "notTerminal": active,
		"restartPending": restarting, "runnerObjectLeft": leftovers, "beingDeleted": 0, "changedWhileArchiving": 0}, counts)
	assert.Equal(t, want, namesIn(lines, "archived "+ns+"/"))
	assert.Equal(t, want, s.archivedNames(t, ns), "exactly the terminal sessions with nothing left and no restart pending")

	// A rerun scans only what is still unarchived, a page at a time.
	pages := &pageCounter{Reader: s.env.Client}
	res, err := archive.Adopt(ctx, pages, s.env.Client, archive.AdoptOptions{Namespace: ns, PageSize: 30})
	require.NoError(t, err)
	assert.Equal(t, historySize-archivable, res.Scanned)
	assert.Zero(t, res.ByReason[archive.Archivable])
	assert.GreaterOrEqual(t, pages.lists, 4)
	assert.LessOrEqual(t, pages.maxItems, 30)

	// Start-up after adoption: the operator's cache configuration lists only the 100 left.
	c, err := crcache.New(s.env.Config, opcache.Options(s.env.Scheme, opcache.Scope{Namespace: ns}))
	require.NoError(t, err)
	cacheCtx := run(t, "bare operator cache", c.Start)
	// Informers start on demand, as the operator's watches start them.
	_, err = c.GetInformer(cacheCtx, &v1alpha1.AgenticSession{})
	require.NoError(t, err)
	require.True(t, c.WaitForCacheSync(cacheCtx))
	var cached v1alpha1.AgenticSessionList
	require.NoError(t, c.List(ctx, &cached, client.InNamespace(ns)))
	assert.Len(t, cached.Items, historySize-archivable)

	// The sweep over 900 archived sessions: pages of at most its page size, and
	// the 5 with a restart request (made here without the webhook) come back.
	for i := range 5 {
		patch := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"annotations":{"`+v1alpha1.AnnotationDesiredPhase+`":"Running"}}}`))
		require.NoError(t, s.env.Client.Patch(ctx, &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: historyName(i * 100)}}, patch))
	}
	pages = &pageCounter{Reader: s.env.Client}
	sweep := &archive.Sweeper{Reader: pages, Writer: s.env.Client, PageSize: pageSize, Namespace: ns}
	swept, err := sweep.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5, swept.Restored)
	assert.Equal(t, archivable, swept.Archived)
	assert.GreaterOrEqual(t, swept.Pages, archivable/pageSize)
	assert.LessOrEqual(t, pages.maxItems, pageSize)
	assert.Len(t, s.archivedNames(t, ns), archivable-5)
}

// storeHistory creates the 1,000 sessions with bounded concurrency: each is
// created, then given its phase through the status subresource.
func (s *suite) storeHistory(t *testing.T, ns string) {
	t.Helper()
	terminal := []v1alpha1.Phase{v1alpha1.PhaseStopped, v1alpha1.PhaseCompleted, v1alpha1.PhaseFailed}
	running := []v1alpha1.Phase{"", v1alpha1.PhaseCreating, v1alpha1.PhaseRunning, v1alpha1.PhaseStopping}
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(16)
	for i := range historySize {
		g.Go(func() error {
			sess := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: historyName(i)},
				Spec: v1alpha1.AgenticSessionSpec{InitialPrompt: "history " + historyName(i)}}
			phase := terminal[i%len(terminal)]
			switch {
			case i >= archivable && i < archivable+active:
				phase = running[i%len(running)]
			case i >= archivable+active && i < archivable+active+restarting:
				sess.Annotations = map[string]string{v1alpha1.AnnotationDesiredPhase: "Running"}
			}
			if err := s.env.Client.Create(ctx, sess); err != nil {
				return err
			}
			if phase != "" {
				sess.Status.Phase = phase
				if err := s.env.Client.Status().Update(ctx, sess); err != nil {
					return err
				}
			}
			if i < archivable+active+restarting {
				return nil
			}
			var left client.Object = &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.ServiceName(sess.Name)},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "agui", Port: 8001}}}}
			if i%2 == 0 {
				left = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.RunnerPodName(sess.Name)},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "runner", Image: "example.com/runner:old"}}}}
			}
			return s.env.Client.Create(ctx, left)
		})
	}
	require.NoError(t, g.Wait())
}

// archivedNames lists, sorted, the sessions of ns the API server has archived.
func (s *suite) archivedNames(t *testing.T, ns string) []string {
	t.Helper()
	var list metav1.PartialObjectMetadataList
	list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("AgenticSessionList"))
	require.NoError(t, s.env.Client.List(context.Background(), &list, client.InNamespace(ns),
		client.MatchingLabelsSelector{Selector: v1alpha1.ArchivedSelector()}))
	var names []string
	for _, m := range list.Items {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	return names
}

// runCommand runs `operator <sub>` (archive or adopt) with args and returns its
// counts and the other lines it printed.
func runCommand(t *testing.T, sub string, args []string) (map[string]int, []string) {
	t.Helper()
	operator := filepath.Join(testenv.BinDir(t), "operator")
	if _, err := os.Stat(operator); err != nil {
		t.Fatalf("%s is built by `make build` (make test does): %v", operator, err)
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command(operator, append([]string{sub}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Run(), "operator %s %v: %s", sub, args, errOut.String())
	counts := map[string]int{}
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		key, value, found := strings.Cut(line, ": ")
		if n, err := strconv.Atoi(value); found && err == nil && !strings.Contains(key, " ") {
			counts[key] = n
			continue
		}
		lines = append(lines, line)
	}
	return counts, lines
}

// namesIn returns, sorted, the session names of the lines starting with prefix.
func namesIn(lines []string, prefix string) []string {
	var names []string
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			name, _, _ := strings.Cut(rest, " ")
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// pageCounter counts list requests and the largest page they returned.
type pageCounter struct {
	client.Reader
	mu       sync.Mutex
	lists    int
	maxItems int
}

func (p *pageCounter) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	err := p.Reader.List(ctx, list, opts...)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lists++
	p.maxItems = max(p.maxItems, meta.LenList(list))
	return err
}
