package operator_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// auditEvent is the part of an audit.k8s.io/v1 Event the test reads.
type auditEvent struct {
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	UserAgent  string `json:"userAgent"`
	ObjectRef  *struct {
		Resource  string `json:"resource"`
		Namespace string `json:"namespace"`
	} `json:"objectRef"`
}

// request is one list or watch as the API server saw it.
type request struct {
	verb, resource, labels, fields string
	// namespaced: the request named a namespace (a reconciler's own list, not
	// an informer's, which are cluster-wide).
	namespaced bool
}

// operatorRequests reads the API server's audit log and returns the distinct list
// and watch requests the operator under test made.
func operatorRequests(t *testing.T, path string) []request {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	seen := map[request]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e auditEvent
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
		if e.UserAgent != operatorUserAgent || e.ObjectRef == nil || (e.Verb != "list" && e.Verb != "watch") {
			continue
		}
		u, err := url.Parse(e.RequestURI)
		require.NoError(t, err)
		q := u.Query()
		seen[request{verb: e.Verb, resource: e.ObjectRef.Resource, labels: q.Get("labelSelector"), fields: q.Get("fieldSelector"),
			namespaced: e.ObjectRef.Namespace != ""}] = true
	}
	require.NoError(t, sc.Err())
	var out []request
	for r := range seen {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b request) int {
		return strings.Compare(a.verb+a.resource+a.labels, b.verb+b.resource+b.labels)
	})
	return out
}

// bindingSelectors are the ledger's two RoleBinding watches (operator/project):
// group bindings, and the project's other bindings.
var bindingSelectors = []string{"ambient-code.io/group-access=true", "ambient-code.io/managed=true,!ambient-code.io/group-access"}

// cacheScope shows from the API server's audit log that the operator, after
// everything the other parts made it do, watched exactly runner pods, managed
// namespaces, sessions, archived sessions (metadata only), ProjectSettings and
// its own labelled Services, and (the ledger of project objects) RoleBindings,
// LimitRanges, ServiceAccounts and NetworkPolicies, and listed nothing
// else: no reconciler lists per namespace. It also shows that a cached read of an
// unlisted kind fails instead of starting an informer.
// activeRunners selects the identity objects of active runners.
const activeRunners = v1alpha1.LabelActiveRunner + "=" + v1alpha1.ValueTrue

func (s *suite) cacheScope(t *testing.T) {
	// A kind the operator's scheme knows (core/v1) but does not cache.
	err := s.mgr.GetClient().Get(context.Background(), types.NamespacedName{Namespace: "default", Name: "x"}, &corev1.PersistentVolumeClaim{})
	var notCached *crcache.ErrResourceNotCached
	assert.True(t, errors.As(err, &notCached), "a cached read of PersistentVolumeClaims fails loudly, got %v", err)

	got := operatorRequests(t, s.auditLog)
	var watches []request
	for _, r := range got {
		switch r.verb {
		case "watch":
			watches = append(watches, r)
		case "list":
			// Only informers list, cluster-wide: the ProjectSettings reconciler
			// reads its bindings from the cache, not one LIST per namespace.
			// The archive watch's one pass at start (cluster-wide) and per
			// namespace that becomes managed list archived sessions, metadata only.
			allowed := (!r.namespaced && (slices.Contains([]string{"pods", "namespaces", "agenticsessions", "projectsettings"}, r.resource) ||
				(r.resource == "services" && r.labels == "app=ambient-code-runner") ||
				(slices.Contains([]string{"rolebindings", "limitranges", "serviceaccounts", "networkpolicies"}, r.resource) &&
					r.labels == "ambient-code.io/managed=true") ||
				(r.resource == "rolebindings" && slices.Contains(bindingSelectors, r.labels)) ||
				(slices.Contains([]string{"rolebindings", "serviceaccounts", "secrets"}, r.resource) && r.labels == activeRunners))) ||
				(r.resource == "agenticsessions" && r.labels == "ambient-code.io/archived")
			assert.True(t, allowed, "unexpected list %+v", r)
		}
	}
	assert.ElementsMatch(t, []request{
		{verb: "watch", resource: "pods", labels: "ambient-code.io/runner=true"},
		{verb: "watch", resource: "namespaces", labels: "ambient-code.io/managed=true"},
		{verb: "watch", resource: "agenticsessions", labels: "!ambient-code.io/archived"},
		// The archive watch: archived sessions, each event dropped (operator/archive).
		{verb: "watch", resource: "agenticsessions", labels: "ambient-code.io/archived"},
		{verb: "watch", resource: "projectsettings"},
		{verb: "watch", resource: "services", labels: "app=ambient-code-runner"},
		// The project objects' ledger (operator/ledger): fingerprints only.
		{verb: "watch", resource: "rolebindings", labels: bindingSelectors[0]},
		{verb: "watch", resource: "rolebindings", labels: bindingSelectors[1]},
		{verb: "watch", resource: "serviceaccounts", labels: "ambient-code.io/managed=true"},
		{verb: "watch", resource: "networkpolicies", labels: "ambient-code.io/managed=true"},
		{verb: "watch", resource: "limitranges", labels: "ambient-code.io/managed=true"},
		// The active runners' identity ledger (operator/runneridentity):
		// fingerprints, the ServiceAccounts and token Secrets as metadata.
		{verb: "watch", resource: "rolebindings", labels: activeRunners},
		{verb: "watch", resource: "serviceaccounts", labels: activeRunners},
		{verb: "watch", resource: "secrets", labels: activeRunners},
	}, watches, "the operator's watches, as the API server recorded them")
	for _, r := range got {
		assert.NotContains(t, []string{"configmaps", "deployments"}, r.resource, "%+v", r)
		if r.resource == "secrets" {
			assert.Equal(t, activeRunners, r.labels, "Secrets are listed and watched only as the active runners' token Secrets: %+v", r)
		}
	}
	assert.Empty(t, discoveryRequests(t, s.auditLog), "the operator maps its kinds statically (manager.StaticRESTMapper): no discovery")
	t.Logf("operator list/watch requests seen by the API server: %+v", got)
}

// discoveryRequests are the operator's requests for API discovery (/api, /apis).
func discoveryRequests(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e auditEvent
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
		if e.UserAgent == operatorUserAgent && e.ObjectRef == nil &&
			(e.RequestURI == "/api" || strings.HasPrefix(e.RequestURI, "/api?") || strings.HasPrefix(e.RequestURI, "/apis")) {
			out = append(out, e.RequestURI)
		}
	}
	require.NoError(t, sc.Err())
	return out
}
