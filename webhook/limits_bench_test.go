package webhook

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
)

// peakHeap samples the heap in use while f runs and returns the highest value
// above the heap before f, in MiB.
func peakHeap(f func()) float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var s runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&s)
				if s.HeapInuse > peak.Load() {
					peak.Store(s.HeapInuse)
				}
			}
		}
	}()
	f()
	runtime.ReadMemStats(&ms)
	if ms.HeapInuse > peak.Load() {
		peak.Store(ms.HeapInuse)
	}
	close(done)
	p := peak.Load()
	if p < base {
		return 0
	}
	return float64(p-base) / (1 << 20)
}

func benchServer(b *testing.B) *httptest.Server {
	mux := http.NewServeMux()
	for path, h := range Routes(Options{}) {
		mux.Handle(path, h)
	}
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkTricklingConnections: 200 connections each declaring a 3 MiB review
// and sending its first bytes, held open for a second (well within the body
// deadline). Reports the webhook's peak heap above idle.
func BenchmarkTricklingConnections(b *testing.B) {
	for b.Loop() {
		srv := benchServer(b)
		mib := peakHeap(func() {
			conns := make([]net.Conn, 0, 200)
			for range 200 {
				conn, err := net.Dial("tcp", srv.Listener.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: webhook\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"kind\":", PathMutatePod, 3<<20)
				conns = append(conns, conn)
			}
			time.Sleep(time.Second)
			for _, c := range conns {
				_ = c.Close()
			}
		})
		b.ReportMetric(mib, "peak-heap-MiB")
	}
}

// BenchmarkConcurrentLargeSessionWrites: 20 concurrent status writes of a
// session whose 3 MiB status is a list of small conditions (what a writer that
// appends instead of upserting leaves). Reports the peak heap above idle.
func BenchmarkConcurrentLargeSessionWrites(b *testing.B) {
	var list strings.Builder
	list.WriteByte('[')
	for i := 0; list.Len() < 3<<20-200; i++ {
		if i > 0 {
			list.WriteByte(',')
		}
		fmt.Fprintf(&list, `{"type":"Ready","status":"True","reason":"R%d","lastTransitionTime":"2026-01-10T08:%02d:00Z"}`, i, i%60)
	}
	list.WriteByte(']')
	body := review(b, admissionv1.AdmissionRequest{UID: "large", Kind: sessionKind, Operation: admissionv1.Update, SubResource: "status",
		Namespace: "team-a", Object: k8sruntime.RawExtension{Raw: []byte(archivedSession(`{}`, `{}`, list.String()))},
		OldObject: k8sruntime.RawExtension{Raw: []byte(archivedSession(`{}`, `{}`, canonicalConditions))}})
	for b.Loop() {
		srv := benchServer(b)
		mib := peakHeap(func() {
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() {
					// The body is shared: the client side adds no copies to the figure.
					resp, err := http.Post(srv.URL+PathMutateSession, "application/json", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					_ = resp.Body.Close()
				})
			}
			wg.Wait()
		})
		b.ReportMetric(mib, "peak-heap-MiB")
	}
}
