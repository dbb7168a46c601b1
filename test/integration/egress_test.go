package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// egressProxy stands in for the cluster network (kube-proxy) of a real
// cluster. kube-apiserver's egress selector sends every connection it opens to
// a Service (the "cluster" egress) through this HTTP CONNECT proxy on a unix
// socket; the proxy forwards connections for routed addresses (a Service's
// ClusterIP:port) to a local listener and refuses the rest. Webhooks called
// by URL use the "controlplane" egress, which stays direct.
type egressProxy struct {
	socket     string
	configFile string
	ln         net.Listener

	mu     sync.Mutex
	routes map[string]string
	// tunnels counts connections forwarded, by routed address.
	tunnels map[string]*atomic.Int64
}

func startEgressProxy(t *testing.T) *egressProxy {
	t.Helper()
	// Not t.TempDir(): a unix socket path must stay under ~100 bytes.
	dir, err := os.MkdirTemp("", "egress")
	if err != nil {
		t.Fatalf("egress proxy dir: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	p := &egressProxy{
		socket:     filepath.Join(dir, "proxy.sock"),
		configFile: filepath.Join(dir, "egress-selector.yaml"),
		routes:     map[string]string{},
		tunnels:    map[string]*atomic.Int64{},
	}
	config := fmt.Sprintf(`apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: %s
`, p.socket)
	if err := os.WriteFile(p.configFile, []byte(config), 0o600); err != nil {
		t.Fatalf("writing egress selector configuration: %v", err)
	}
	if p.ln, err = net.Listen("unix", p.socket); err != nil {
		t.Fatalf("egress proxy: %v", err)
	}
	go p.serve()
	t.Cleanup(func() { _ = p.ln.Close() })
	return p
}

// Route forwards connections to from (host:port) to the local address to.
func (p *egressProxy) Route(from, to string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.routes[from] = to
	if p.tunnels[from] == nil {
		p.tunnels[from] = &atomic.Int64{}
	}
}

// Tunnels is how many connections to from were forwarded.
func (p *egressProxy) Tunnels(from string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.tunnels[from]; c != nil {
		return c.Load()
	}
	return 0
}

func (p *egressProxy) lookup(from string) (string, *atomic.Int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	to, ok := p.routes[from]
	return to, p.tunnels[from], ok
}

func (p *egressProxy) serve() {
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return // closed by cleanup
		}
		go p.tunnel(conn)
	}
}

func (p *egressProxy) tunnel(conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if req.Method != http.MethodConnect {
		fmt.Fprint(conn, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
		return
	}
	to, count, ok := p.lookup(req.URL.Host)
	if !ok {
		fmt.Fprintf(conn, "HTTP/1.1 502 Bad Gateway\r\n\r\nno route to %s\n", req.URL.Host)
		return
	}
	upstream, err := net.Dial("tcp", to)
	if err != nil {
		fmt.Fprintf(conn, "HTTP/1.1 502 Bad Gateway\r\n\r\n%v\n", err)
		return
	}
	defer upstream.Close()
	count.Add(1)
	fmt.Fprint(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(upstream, br)
		if tc, ok := upstream.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		close(done)
	}()
	_, _ = io.Copy(conn, upstream)
	_ = conn.Close()
	<-done
}
