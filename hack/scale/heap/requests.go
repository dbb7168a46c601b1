package heap

import (
	"maps"
	"net/http"
	"sync"

	"k8s.io/apimachinery/pkg/util/sets"
	genericrequest "k8s.io/apiserver/pkg/endpoints/request"
)

// RequestCounter counts the requests a configuration makes, by verb as the API
// server sees it (list, watch, get, create, patch, ...) and resource.
type RequestCounter struct {
	mu     sync.Mutex
	counts map[string]int // "verb resource"
	info   *genericrequest.RequestInfoFactory
}

// NewRequestCounter is an empty counter; install it with rest.Config.Wrap(c.Wrap).
func NewRequestCounter() *RequestCounter {
	return &RequestCounter{counts: map[string]int{}, info: &genericrequest.RequestInfoFactory{
		APIPrefixes: sets.NewString("api", "apis"), GrouplessAPIPrefixes: sets.NewString("api"),
	}}
}

// Wrap is a rest.Config.Wrap function.
func (c *RequestCounter) Wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		key := req.Method + " " + req.URL.Path
		if ri, err := c.info.NewRequestInfo(req); err == nil && ri.IsResourceRequest {
			key = ri.Verb + " " + ri.Resource
			if ri.Subresource != "" {
				key += "/" + ri.Subresource
			}
		}
		c.mu.Lock()
		c.counts[key]++
		c.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

// Snapshot copies the counts so far.
func (c *RequestCounter) Snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Diff is after minus before, without zero entries.
func Diff(after, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
