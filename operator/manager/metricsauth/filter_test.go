package metricsauth

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// fakeAPI answers TokenReviews for the tokens it knows and SubjectAccessReviews
// for the users it allows, counting both.
type fakeAPI struct {
	users        map[string]string // token to username
	allowed      map[string]bool   // username to allowed
	tokenReviews atomic.Int32
	accessChecks atomic.Int32
	lastAccess   *authzv1.SubjectAccessReviewSpec
}

func (f *fakeAPI) reviewer() *reviewer {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		f.tokenReviews.Add(1)
		tr := a.(k8stesting.CreateAction).GetObject().(*authnv1.TokenReview).DeepCopy()
		if name, ok := f.users[tr.Spec.Token]; ok {
			tr.Status = authnv1.TokenReviewStatus{Authenticated: true,
				User: authnv1.UserInfo{Username: name, UID: "uid-" + name, Groups: []string{"system:authenticated"},
					Extra: map[string]authnv1.ExtraValue{"k": {"v"}}}}
		}
		return true, tr, nil
	})
	cs.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		f.accessChecks.Add(1)
		sar := a.(k8stesting.CreateAction).GetObject().(*authzv1.SubjectAccessReview).DeepCopy()
		f.lastAccess = sar.Spec.DeepCopy()
		sar.Status.Allowed = f.allowed[sar.Spec.User]
		return true, sar, nil
	})
	return &reviewer{tokens: cs.AuthenticationV1().TokenReviews(), access: cs.AuthorizationV1().SubjectAccessReviews(),
		now: time.Now, allowed: map[cacheKey]time.Time{}}
}

func get(t *testing.T, r *reviewer, authorization string) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	w := httptest.NewRecorder()
	r.serve(logr.Discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("metrics"))
	}), w, req)
	return w.Code
}

func TestFilterAuthenticatesThenAuthorizes(t *testing.T) {
	api := &fakeAPI{users: map[string]string{"reader-token": "reader", "other-token": "other"},
		allowed: map[string]bool{"reader": true}}
	r := api.reviewer()

	assert.Equal(t, http.StatusUnauthorized, get(t, r, ""), "no token")
	assert.Equal(t, http.StatusUnauthorized, get(t, r, "Basic dTpw"), "not a bearer token")
	assert.Equal(t, http.StatusUnauthorized, get(t, r, "Bearer "), "empty token")
	assert.Equal(t, int32(0), api.tokenReviews.Load(), "no review without a token")

	assert.Equal(t, http.StatusUnauthorized, get(t, r, "Bearer forged"), "a token the API server does not know")
	assert.Equal(t, int32(0), api.accessChecks.Load(), "no access check for an unauthenticated token")

	assert.Equal(t, http.StatusForbidden, get(t, r, "Bearer other-token"), "authenticated, not authorized")
	assert.Equal(t, http.StatusOK, get(t, r, "bearer reader-token"), "authorized (scheme case-insensitive)")
	require.NotNil(t, api.lastAccess)
	assert.Equal(t, authzv1.SubjectAccessReviewSpec{User: "reader", UID: "uid-reader", Groups: []string{"system:authenticated"},
		Extra:                 map[string]authzv1.ExtraValue{"k": {"v"}},
		NonResourceAttributes: &authzv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}}, *api.lastAccess)
}

func TestFilterCachesOnlyAllowedTokens(t *testing.T) {
	api := &fakeAPI{users: map[string]string{"reader-token": "reader", "other-token": "other"},
		allowed: map[string]bool{"reader": true}}
	r := api.reviewer()
	now := time.Now()
	r.now = func() time.Time { return now }

	for range 3 {
		require.Equal(t, http.StatusOK, get(t, r, "Bearer reader-token"))
	}
	assert.Equal(t, int32(1), api.tokenReviews.Load(), "an allowed token is reviewed once per allowTTL")
	now = now.Add(allowTTL)
	require.Equal(t, http.StatusOK, get(t, r, "Bearer reader-token"))
	assert.Equal(t, int32(2), api.tokenReviews.Load(), "reviewed again once the entry expired")

	// A denial is not cached: binding the role takes effect at the next scrape.
	require.Equal(t, http.StatusForbidden, get(t, r, "Bearer other-token"))
	api.allowed["other"] = true
	assert.Equal(t, http.StatusOK, get(t, r, "Bearer other-token"))

	for k := range r.allowed {
		assert.NotContains(t, string(k.token[:]), "reader-token", "the cache keeps a hash, not the token")
	}
}

func TestCacheStaysBounded(t *testing.T) {
	r := (&fakeAPI{}).reviewer()
	for i := range 3 * maxCached {
		r.allow(cacheKey{token: [32]byte{byte(i), byte(i >> 8)}, verb: "get", path: "/metrics"})
		require.LessOrEqual(t, len(r.allowed), maxCached)
	}
}
