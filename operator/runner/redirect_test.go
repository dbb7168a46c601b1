package runner

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/runner/runnertest"
)

// A runner address that answers with a redirect must not make the client carry
// the session's token (or anything else) to where the redirect points.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var elsewhere atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	t.Cleanup(target.Close)
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		redirecting := runnertest.New(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", target.URL+"/steal")
			w.WriteHeader(code)
			_, _ = w.Write([]byte("elsewhere's secrets"))
		})
		c := newClient(t, secrets(tokenSecret("ns", "s", "s3cret")), Options{URLTemplate: redirecting.URLTemplate()})
		r, err := c.For(context.Background(), client.ObjectKey{Namespace: "ns", Name: "s"})
		require.NoError(t, err)
		err = r.AddRepo(context.Background(), "https://github.com/org/repo", "main", "repo")
		require.Error(t, err, "a %d is not a success", code)
		assert.Equal(t, ReasonRunnerError, Reason(err))
		assert.Contains(t, err.Error(), http.StatusText(code))
		assert.NotContains(t, err.Error(), "secrets", "the body is summarised, not copied")
	}
	assert.Zero(t, elsewhere.Load(), "the redirect target saw a request")
}
