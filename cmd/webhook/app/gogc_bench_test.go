//go:build linux

package app_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ambient-code/agentic-operator/certs"
	"github.com/ambient-code/agentic-operator/webhook"
)

// gcRate is the review rate GOGC=400 was once chosen for.
const gcRate = 1000

// BenchmarkGOGC serves the webhook binary as the Deployment runs it, once with
// GOGC=100 (Go's default) and once with 400, and sends each the same open-loop
// mix at 1,000 reviews/s over keep-alive TLS: six session status writes with ten
// conditions, two pod mutations and two pod validations of a five-container
// runner pod in every ten, from webhook/testdata. b.N is the number of reviews
// (-benchtime 5000x is five seconds). Both servers run throughout and are warmed
// first; the two settings are measured one after the other, so repeat the whole
// benchmark (a shell loop over -count 1) to alternate them on a shared machine.
// Reported per setting: latency p50/p99 as the client sees it, the server's CPU
// per review (its collector included), its collections per 1,000 reviews (from
// gctrace), its peak RSS, and reviews that failed (timed out). ns/op is
// suppressed: at a fixed rate it is the interval.
func BenchmarkGOGC(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "webhook")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "github.com/ambient-code/agentic-operator/cmd/webhook")
	out, err := build.CombinedOutput()
	require.NoError(b, err, "building the webhook: %s", out)

	certDir := b.TempDir()
	ca, _, err := certs.GenerateDir(certDir, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	require.NoError(b, err)
	mix := gcMix(b)
	// The API server's default webhook timeout.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12},
		// Connections are capped, so that an overloaded server sees requests
		// queue on open connections instead of a storm of TLS handshakes.
		MaxConnsPerHost:     16,
		MaxIdleConnsPerHost: 16,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{}, // HTTP/1.1, as the API server talks to it
	}}
	b.Cleanup(client.CloseIdleConnections)

	servers := map[int]*gcServer{}
	for _, pct := range []int{100, 400} {
		servers[pct] = startGCServer(b, bin, certDir, pct)
		servers[pct].send(b, client, mix, gcRate, 2*gcRate) // warm: connections open, code paths hot
	}
	for _, pct := range []int{100, 400} {
		srv := servers[pct]
		b.Run(fmt.Sprintf("gogc=%d", pct), func(b *testing.B) {
			gc0, cpu0 := srv.gcs(), srv.cpu(b)
			lat, failed := srv.send(b, client, mix, gcRate, b.N)
			gcs, cpu := srv.gcs()-gc0, srv.cpu(b)-cpu0
			slices.Sort(lat)
			at := func(q float64) float64 { return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) }
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(at(0.50), "p50-us")
			b.ReportMetric(at(0.99), "p99-us")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/review")
			b.ReportMetric(float64(gcs)*1000/float64(b.N), "gcs/1k-reviews")
			b.ReportMetric(srv.peakRSSMiB(b), "peak-rss-MiB")
			b.ReportMetric(float64(failed), "failed")
		})
	}
}

// gcMix is ten review bodies in the benchmark's proportions.
func gcMix(b *testing.B) []gcReview {
	read := func(path, endpoint, name string) gcReview {
		raw, err := os.ReadFile(filepath.Join("..", "..", "..", "webhook", "testdata", endpoint, name+".request.json"))
		require.NoError(b, err)
		var body bytes.Buffer
		require.NoError(b, json.Compact(&body, raw))
		return gcReview{path: path, body: body.Bytes()}
	}
	status := read(webhook.PathMutateSession, "mutate-agenticsession", "status-update-ten-conditions")
	mutate := read(webhook.PathMutatePod, "mutate-v1-pod", "runner-pod-five-containers")
	validate := read(webhook.PathValidatePod, "validate-v1-pod", "runner-pod-five-containers")
	return []gcReview{status, mutate, status, validate, status, status, mutate, status, validate, status}
}

type gcReview struct {
	path string
	body []byte
}

// gcServer is one webhook process with its collector traced.
type gcServer struct {
	cmd  *exec.Cmd
	addr string
	gc   *gcCounter
}

func startGCServer(b *testing.B, bin, certDir string, pct int) *gcServer {
	webhookAddr, probeAddr := loopbackAddr(b), loopbackAddr(b)
	cmd := exec.Command(bin, "--cert-dir", certDir, "--webhook-bind-address", webhookAddr,
		"--health-probe-bind-address", probeAddr, "--metrics-bind-address", "0")
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "GOGC=") || strings.HasPrefix(kv, "GODEBUG=") || strings.HasPrefix(kv, "GOMEMLIMIT=")
	})
	// gctrace prints one line on stderr per collection.
	cmd.Env = append(env, "GOGC="+strconv.Itoa(pct), "GODEBUG=gctrace=1")
	s := &gcServer{cmd: cmd, addr: webhookAddr, gc: &gcCounter{}}
	cmd.Stdout, cmd.Stderr = io.Discard, s.gc
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(b, cmd.Start())
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + probeAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		require.True(b, time.Now().Before(deadline), "webhook with GOGC=%d not ready within %s", pct, startTimeout)
		time.Sleep(50 * time.Millisecond)
	}
}

// send posts n reviews of mix at rate per second, each at its scheduled time
// whether or not the earlier ones were answered, and returns their latencies
// and how many failed.
func (s *gcServer) send(b *testing.B, client *http.Client, mix []gcReview, rate, n int) ([]time.Duration, int) {
	lat := make([]time.Duration, n)
	var (
		wg     sync.WaitGroup
		failed atomic.Int64
		first  atomic.Value
	)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := range n {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		wg.Go(func() {
			r := mix[i%len(mix)]
			began := time.Now()
			err := post(client, "https://"+s.addr+r.path, r.body)
			lat[i] = time.Since(began)
			if err != nil {
				failed.Add(1)
				first.CompareAndSwap(nil, err.Error())
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		// A review that times out stays in the latencies at its full wait: on an
		// overloaded machine that is what the API server would see.
		b.Logf("%d of %d reviews failed, the first: %v", n, len(lat), first.Load())
	}
	return lat, int(failed.Load())
}

func post(client *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(data, []byte(`"response"`)) {
		return fmt.Errorf("%s: %.200s", resp.Status, data)
	}
	return nil
}

// loopbackAddr is a loopback address nothing listened on a moment ago.
func loopbackAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	defer ln.Close()
	return ln.Addr().String()
}

func (s *gcServer) gcs() int64 { return s.gc.n.Load() }

// cpu is the server's user+system CPU time so far (utime and stime of
// /proc/<pid>/stat, in USER_HZ ticks of 10 ms).
func (s *gcServer) cpu(b *testing.B) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	require.NoError(b, err)
	f := bytes.Fields(data[bytes.LastIndexByte(data, ')')+1:]) // the command name may hold spaces
	utime, err := strconv.ParseInt(string(f[11]), 10, 64)
	require.NoError(b, err)
	stime, err := strconv.ParseInt(string(f[12]), 10, 64)
	require.NoError(b, err)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// peakRSSMiB is the server's resident set high-water mark (VmHWM).
func (s *gcServer) peakRSSMiB(b *testing.B) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	require.NoError(b, err)
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			require.NoError(b, err)
			return kb / 1024
		}
	}
	require.FailNow(b, "no VmHWM in /proc/<pid>/status")
	return 0
}

// gcCounter counts the lines of gctrace ("gc N @...") on the server's stderr.
type gcCounter struct {
	mu      sync.Mutex
	partial []byte
	n       atomic.Int64
}

func (c *gcCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	data := append(c.partial, p...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		if bytes.HasPrefix(data[:i], []byte("gc ")) {
			c.n.Add(1)
		}
		data = data[i+1:]
	}
	c.partial = append(c.partial[:0:0], data...)
	return len(p), nil
}
