// Package runner is the operator's HTTP client for the runners of running sessions
// (the platform runner's HTTP API on port 8001): one pooled http.Client for the whole
// process, bounded reads, and the session token header.
package runner

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"text/template"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Defaults of Options; README.md "Runner client" lists them.
const (
	DefaultURLTemplate     = "http://session-{{.Name}}.{{.Namespace}}.svc.cluster.local:8001"
	DefaultTimeout         = 15 * time.Second
	DefaultMaxConnsPerHost = 10
	DefaultIdleConnTimeout = 90 * time.Second
	dialTimeout            = 5 * time.Second
	tlsHandshakeTimeout    = 5 * time.Second
	// MaxBodyBytes bounds what is read of any response body, success or error:
	// a runner cannot make the operator hold or read more than this per call.
	MaxBodyBytes = 64 << 10
	// maxHeaderBytes bounds response headers the same way.
	maxHeaderBytes = 64 << 10
)

// Options tune the client; zero values take the defaults above.
type Options struct {
	// URLTemplate is a text/template of a runner's base URL over {{.Name}} and
	// {{.Namespace}} of the session.
	URLTemplate string
	// Timeout bounds a whole request, connect to last byte read.
	Timeout time.Duration
	// MaxConnsPerHost caps the connections, busy or idle, to one runner host; set
	// it to the number of concurrent reconciles. Each worker has at most one call
	// in flight, so the cap never queues a call, and it keeps the pool from
	// growing past the concurrency when dials race with freed connections.
	MaxConnsPerHost int
	// IdleConnTimeout closes pooled connections idle for this long.
	IdleConnTimeout time.Duration
}

// Client talks to runners. Build one per process with New and share it: it owns
// the connection pool.
type Client struct {
	http    *http.Client
	base    *template.Template
	secrets client.Reader
	timeout time.Duration
}

// New builds the client. secrets reads the token Secrets and should be uncached
// (the manager's APIReader): the operator caches no Secrets.
func New(secrets client.Reader, opts Options) (*Client, error) {
	if opts.URLTemplate == "" {
		opts.URLTemplate = DefaultURLTemplate
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxConnsPerHost <= 0 {
		opts.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	if opts.IdleConnTimeout <= 0 {
		opts.IdleConnTimeout = DefaultIdleConnTimeout
	}
	base, err := template.New("runner-url").Option("missingkey=error").Parse(opts.URLTemplate)
	if err != nil {
		return nil, fmt.Errorf("parsing runner URL template %q: %w", opts.URLTemplate, err)
	}
	c := &Client{
		http: &http.Client{Transport: newTransport(opts), Timeout: opts.Timeout,
			// Never follow a redirect: Go keeps custom headers across hosts, so the
			// session token would go wherever a Location header points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		base:    base,
		secrets: secrets,
		timeout: opts.Timeout,
	}
	// Fail at startup, not on the first running session, when the template is unusable.
	if _, err := c.baseURL("example", "example-ns"); err != nil {
		return nil, err
	}
	return c, nil
}

// Timeout is the bound of one request.
func (c *Client) Timeout() time.Duration { return c.timeout }

func newTransport(opts Options) *http.Transport {
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		// Runners are cluster Services: an environment proxy would only get in the way.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ResponseHeaderTimeout:  opts.Timeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    opts.MaxConnsPerHost,
		MaxConnsPerHost:        opts.MaxConnsPerHost,
		IdleConnTimeout:        opts.IdleConnTimeout,
		MaxResponseHeaderBytes: maxHeaderBytes,
	}
}

// CloseIdleConnections releases pooled connections, for shutdown and tests.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// baseURL renders the template for one session and checks the result is an
// absolute http(s) URL.
func (c *Client) baseURL(name, namespace string) (*url.URL, error) {
	var buf bytes.Buffer
	data := struct{ Name, Namespace string }{name, namespace}
	if err := c.base.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("rendering runner URL template: %w", err)
	}
	u, err := url.Parse(buf.String())
	if err != nil {
		return nil, fmt.Errorf("runner URL %q: %w", buf.String(), err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("runner URL %q is not an absolute http(s) URL", buf.String())
	}
	return u, nil
}
