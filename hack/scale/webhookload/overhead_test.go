//go:build overhead

package webhookload

// TestOverhead drives the webhook and the floor server side by side at one rate,
// each a process of its own, and writes a CPU and an allocation profile of each:
//
//	cd hack/scale && go test -tags overhead -run TestOverhead -v -timeout 30m ./webhookload \
//	    -overhead.profiles /tmp/overhead
//
// The webhook is cmd/webhook's server and routes (app.Run, webhook.Routes), run in
// a child of this test binary so that it can profile itself; -overhead.binary
// measures a built bin/webhook instead (no profiles). Reviews are 200 of the
// bench's mix, built from the scale profile's sessions and runner pods without a
// cluster. Rounds alternate webhook and floor; the log shows each round and the
// median of each figure. No assertion is timed: it reports, it does not judge.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ambient-code/agentic-operator/certs"
	"github.com/ambient-code/agentic-operator/cmd/webhook/app"
	"github.com/ambient-code/agentic-operator/hack/scale/child"
	"github.com/ambient-code/agentic-operator/hack/scale/profile"
	"github.com/ambient-code/agentic-operator/webhook"
)

var (
	overheadRate     = flag.Int("overhead.rate", 1000, "reviews per second")
	overheadDuration = flag.Duration("overhead.duration", 10*time.Second, "length of one measured run")
	overheadWarm     = flag.Duration("overhead.warm", 2*time.Second, "unmeasured run before each measured one")
	overheadRounds   = flag.Int("overhead.rounds", 3, "measured runs of each server, alternating")
	overheadProfiles = flag.String("overhead.profiles", "", "directory for webhook.cpu.pprof, webhook.allocs.pprof, floor.cpu.pprof, floor.allocs.pprof (default: none)")
	overheadBinary   = flag.String("overhead.binary", "", "measure these webhook binaries instead of the in-process server, comma-separated name=path (e.g. webhook=../../bin/webhook,before=/tmp/webhook-before); no profiles of them")
	overheadQuiet    = flag.Bool("overhead.quiet", true, "discard the servers' logs")
)

func TestMain(m *testing.M) {
	child.Main()
	os.Exit(m.Run())
}

// profiledRequest runs cmd/webhook's server in a child with profiles written at exit.
type profiledRequest struct {
	Args       []string
	CPUProfile string
	MemProfile string
}

func init() {
	child.Register("webhook-profiled", runProfiledWebhook)
	child.Register("floor-profiled", runProfiledFloor)
}

func runProfiledWebhook(ctx context.Context, payload []byte) error {
	var req profiledRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return err
	}
	return profiled(req, func() error {
		// cmd/webhook's main, as it wires the routes.
		return app.Run(ctx, req.Args, os.Stderr, func(a app.Admission) map[string]http.Handler {
			return webhook.Routes(webhook.Options{Now: time.Now, Log: a.Log, RunnerCreators: a.RunnerCreators})
		})
	})
}

func runProfiledFloor(ctx context.Context, payload []byte) error {
	var req struct {
		profiledRequest
		Floor FloorRequest
	}
	if err := json.Unmarshal(payload, &req); err != nil {
		return err
	}
	floor, err := json.Marshal(req.Floor)
	if err != nil {
		return err
	}
	return profiled(req.profiledRequest, func() error { return runFloor(ctx, floor) })
}

// profiled runs serve with a CPU profile, then writes the allocations profile.
func profiled(req profiledRequest, serve func() error) error {
	if req.CPUProfile != "" {
		runtime.MemProfileRate = 64 << 10 // a little finer than the default, still cheap
		f, err := os.Create(req.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	err := serve()
	if req.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	if req.MemProfile != "" {
		f, ferr := os.Create(req.MemProfile)
		if ferr != nil {
			return ferr
		}
		defer f.Close()
		if ferr := pprof.Lookup("allocs").WriteTo(f, 0); ferr != nil {
			return ferr
		}
	}
	return err
}

func TestOverhead(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	ca, _, err := certs.GenerateDir(dir, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	require.NoError(t, err)
	reviews := offlineReviews(t, 200)
	var logs io.Writer = os.Stderr
	if *overheadQuiet {
		logs = io.Discard
	}
	prof := func(name string) profiledRequest {
		if *overheadProfiles == "" {
			return profiledRequest{}
		}
		require.NoError(t, os.MkdirAll(*overheadProfiles, 0o755))
		return profiledRequest{CPUProfile: filepath.Join(*overheadProfiles, name+".cpu.pprof"),
			MemProfile: filepath.Join(*overheadProfiles, name+".allocs.pprof")}
	}

	var (
		targets []*Target
		procs   []*Process
	)
	add := func(name, addr string, p *Process, err error) {
		require.NoError(t, err)
		t.Cleanup(p.Stop)
		targets, procs = append(targets, NewTarget(name, "https://"+addr, p.PID(), ca.Pool())), append(procs, p)
	}
	if *overheadBinary == "" {
		hookAddr, err := FreeAddr()
		require.NoError(t, err)
		req := prof("webhook")
		req.Args = []string{"--webhook-bind-address", hookAddr, "--cert-dir", dir,
			"--health-probe-bind-address", "0", "--metrics-bind-address", "0"}
		p, err := startChild(ctx, "webhook-profiled", req, logs)
		add("webhook", hookAddr, p, err)
	}
	for nameBin := range strings.SplitSeq(*overheadBinary, ",") {
		if nameBin == "" {
			continue
		}
		name, bin, ok := strings.Cut(nameBin, "=")
		require.True(t, ok, "-overhead.binary wants name=path, got %q", nameBin)
		hookAddr, err := FreeAddr()
		require.NoError(t, err)
		p, err := StartWebhook(ctx, bin, hookAddr, dir, logs)
		add(name, hookAddr, p, err)
	}
	floorAddr, err := FreeAddr()
	require.NoError(t, err)
	floor, err := startChild(ctx, "floor-profiled", struct {
		profiledRequest
		Floor FloorRequest
	}{prof("floor"), FloorRequest{Addr: floorAddr, CertDir: dir}}, logs)
	add("floor", floorAddr, floor, err)
	for i, tg := range targets {
		t.Cleanup(tg.Close)
		require.NoError(t, procs[i].WaitReady(ctx, tg, reviews[0], 30*time.Second))
	}
	runs := map[string][]Run{}
	for round := range *overheadRounds {
		for _, tg := range targets {
			tg.Warm(ctx, reviews, *overheadRate, *overheadWarm)
			run, err := tg.Measure(ctx, reviews, *overheadRate, *overheadDuration)
			require.NoError(t, err)
			runs[tg.Name] = append(runs[tg.Name], run)
			t.Logf("round %d %-7s sent %d errors %d p50 %.3f ms p99 %.3f ms max %.1f ms CPU %.3f s per 1,000 (generator %.3f) lag p99 %.2f ms%s",
				round, run.Target, run.Sent, run.Errors, run.P50*1e3, run.P99*1e3, run.Max*1e3, run.CPUPer1000(),
				run.GeneratorCPUSeconds/float64(max(run.Sent, 1))*1000, run.LagP99*1e3, firstError(run))
		}
	}
	med := func(name string, f func(Run) float64) float64 {
		xs := make([]float64, 0, len(runs[name]))
		for _, r := range runs[name] {
			xs = append(xs, f(r))
		}
		slices.Sort(xs)
		return xs[len(xs)/2]
	}
	errs := func(name string) (n int) {
		for _, r := range runs[name] {
			n += r.Errors
		}
		return n
	}
	p50 := func(r Run) float64 { return r.P50 * 1e3 }
	p99 := func(r Run) float64 { return r.P99 * 1e3 }
	cpu := func(r Run) float64 { return r.CPUPer1000() }
	for _, tg := range targets {
		t.Logf("median of %d at %d/s: %-7s p50 %.3f ms p99 %.3f ms CPU %.3f s per 1,000, errors %d in all",
			*overheadRounds, *overheadRate, tg.Name, med(tg.Name, p50), med(tg.Name, p99), med(tg.Name, cpu), errs(tg.Name))
	}
	for _, tg := range targets[:len(targets)-1] {
		t.Logf("ratios (%s / floor, medians): p99 %.2f, CPU %.2f", tg.Name,
			med(tg.Name, p99)/med("floor", p99), med(tg.Name, cpu)/med("floor", cpu))
	}
	// Stop now, so that the profiles are written before the test returns.
	for _, p := range procs {
		p.Stop()
	}
}

func firstError(r Run) string {
	if r.FirstError == "" {
		return ""
	}
	return " first error: " + r.FirstError
}

func startChild(ctx context.Context, part string, payload any, logs io.Writer) (*Process, error) {
	cmd, err := child.Command(ctx, part, payload)
	if err != nil {
		return nil, err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return start(cmd, logs)
}

// offlineReviews builds n reviews of the bench's mix from the scale profile's
// objects, as Reviews does from the cluster's: active sessions with their status
// and their runner pods.
func offlineReviews(t *testing.T, n int) []Review {
	c := profile.VteamUAT()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var active []int
	for i := 0; i < c.Sessions; i++ {
		if _, ok := profile.ActiveIndex(c, i); ok {
			active = append(active, i)
		}
	}
	require.NotEmpty(t, active)
	var out []Review
	for k := range n {
		i := active[k%len(active)]
		s := profile.Session(c, i)
		s.UID = types.UID(fmt.Sprintf("0000aaaa-0000-4000-8000-%012d", i))
		s.Status = profile.SessionStatus(c, s, i, now)
		pod := profile.RunnerPod(s, i)
		pod.Namespace = s.Namespace
		kind := MixPattern[k%len(MixPattern)]
		var (
			r   Review
			err error
		)
		if kind == "session-status" {
			r, err = sessionReview(s, k)
		} else {
			r, err = podReview(pod, kind, k)
		}
		require.NoError(t, err)
		out = append(out, r)
	}
	return out
}
