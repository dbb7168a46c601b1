package metricsauth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authenticationv1 "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationv1 "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

const (
	// reviewTimeout bounds the TokenReview and the SubjectAccessReview of one
	// request together, as controller-runtime's filter bounds its reviews.
	reviewTimeout = 10 * time.Second
	// allowTTL is how long an allowed token is served without asking again: a
	// scrape every 30 s costs two reviews a minute at most. A token or binding
	// revoked is refused within this long. Denials are not cached, so a reader
	// bound a moment ago is served at once.
	allowTTL = time.Minute
	// maxCached bounds the cache, which unauthenticated callers cannot grow
	// (only allowed tokens enter it).
	maxCached = 256
)

// Filter is a metricsserver.Options FilterProvider: each request needs a bearer
// token the API server authenticates (TokenReview; else 401) and authorizes for
// its method on its path as a non-resource URL (SubjectAccessReview; else 403).
// Review errors are 500. cfg's identity needs create on
// authentication.k8s.io/tokenreviews and authorization.k8s.io/subjectaccessreviews.
func Filter(cfg *rest.Config, hc *http.Client) (metricsserver.Filter, error) {
	authn, err := authenticationv1.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("building the TokenReview client: %w", err)
	}
	authz, err := authorizationv1.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("building the SubjectAccessReview client: %w", err)
	}
	r := &reviewer{tokens: authn.TokenReviews(), access: authz.SubjectAccessReviews(),
		now: time.Now, allowed: map[cacheKey]time.Time{}}
	return func(log logr.Logger, next http.Handler) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			r.serve(log, next, w, req)
		}), nil
	}, nil
}

type reviewer struct {
	tokens authenticationv1.TokenReviewInterface
	access authorizationv1.SubjectAccessReviewInterface
	now    func() time.Time

	mu      sync.Mutex
	allowed map[cacheKey]time.Time // expiry of each allowed token, verb and path
}

// cacheKey holds a hash of the token, never the token itself.
type cacheKey struct {
	token      [sha256.Size]byte
	verb, path string
}

func (r *reviewer) serve(log logr.Logger, next http.Handler, w http.ResponseWriter, req *http.Request) {
	token, ok := bearerToken(req)
	if !ok {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	verb, path := strings.ToLower(req.Method), req.URL.Path
	key := cacheKey{token: sha256.Sum256([]byte(token)), verb: verb, path: path}
	if r.cached(key) {
		next.ServeHTTP(w, req)
		return
	}

	ctx, cancel := context.WithTimeout(req.Context(), reviewTimeout)
	defer cancel()
	tr, err := r.tokens.Create(ctx, &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		log.Error(err, "TokenReview failed")
		http.Error(w, "Authentication failed", http.StatusInternalServerError)
		return
	}
	if !tr.Status.Authenticated {
		log.V(4).Info("Token not authenticated", "error", tr.Status.Error)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	user := tr.Status.User
	extra := make(map[string]authzv1.ExtraValue, len(user.Extra))
	for k, v := range user.Extra {
		extra[k] = authzv1.ExtraValue(v)
	}
	sar, err := r.access.Create(ctx, &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
		User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra,
		NonResourceAttributes: &authzv1.NonResourceAttributes{Path: path, Verb: verb},
	}}, metav1.CreateOptions{})
	if err != nil {
		log.Error(err, "SubjectAccessReview failed", "user", user.Username)
		http.Error(w, fmt.Sprintf("Authorization for user %s failed", user.Username), http.StatusInternalServerError)
		return
	}
	if !sar.Status.Allowed || sar.Status.Denied {
		log.V(4).Info("Metrics request denied", "user", user.Username, "verb", verb, "path", path, "reason", sar.Status.Reason)
		http.Error(w, fmt.Sprintf("Authorization denied for user %s", user.Username), http.StatusForbidden)
		return
	}
	r.allow(key)
	next.ServeHTTP(w, req)
}

func (r *reviewer) cached(key cacheKey) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	expiry, ok := r.allowed[key]
	if ok && r.now().Before(expiry) {
		return true
	}
	delete(r.allowed, key)
	return false
}

func (r *reviewer) allow(key cacheKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if len(r.allowed) >= maxCached {
		for k, expiry := range r.allowed {
			if !now.Before(expiry) {
				delete(r.allowed, k)
			}
		}
		if len(r.allowed) >= maxCached {
			clear(r.allowed) // many live readers: start over rather than grow
		}
	}
	r.allowed[key] = now.Add(allowTTL)
}

// bearerToken is the token of an "Authorization: Bearer <token>" header.
func bearerToken(req *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(req.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
