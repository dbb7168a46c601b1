package runner

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/ambient-code/agentic-operator/operator/runner/runnertest"
)

func TestCallsCarryPayloadsAndToken(t *testing.T) {
	f := runnertest.New(t, nil)
	c := newClient(t, secrets(tokenSecret("ns1", "with-token", "s3cret")), Options{URLTemplate: f.URLTemplate()})
	ctx := context.Background()

	r, err := c.For(ctx, client.ObjectKey{Namespace: "ns1", Name: "with-token"})
	require.NoError(t, err)
	require.NoError(t, r.AddRepo(ctx, "https://github.com/org/app.git", "dev", "app"))
	require.NoError(t, r.RemoveRepo(ctx, "old"))
	require.NoError(t, r.SetWorkflow(ctx, "https://github.com/org/flows", "main", "flows/triage"))

	r, err = c.For(ctx, client.ObjectKey{Namespace: "ns1", Name: "no-token"})
	require.NoError(t, err)
	require.NoError(t, r.AddRepo(ctx, "https://github.com/org/lib", "main", "lib"))

	assert.Equal(t, []runnertest.Call{
		{Session: "ns1/with-token", Path: "/repos/add", Token: "s3cret",
			Body: map[string]string{"url": "https://github.com/org/app.git", "branch": "dev", "name": "app"}},
		{Session: "ns1/with-token", Path: "/repos/remove", Token: "s3cret", Body: map[string]string{"name": "old"}},
		{Session: "ns1/with-token", Path: "/workflow", Token: "s3cret",
			Body: map[string]string{"gitUrl": "https://github.com/org/flows", "branch": "main", "path": "flows/triage"}},
		{Session: "ns1/no-token", Path: "/repos/add", Token: "",
			Body: map[string]string{"url": "https://github.com/org/lib", "branch": "main", "name": "lib"}},
	}, f.Calls())
}

func TestTokenReadFailureIsAnError(t *testing.T) {
	failing := fake.NewClientBuilder().WithScheme(scheme.Scheme).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
			return errors.New("apiserver unavailable")
		},
	}).Build()
	c := newClient(t, failing, Options{})
	_, err := c.For(context.Background(), client.ObjectKey{Namespace: "ns", Name: "s"})
	require.Error(t, err)
	assert.Equal(t, ReasonTokenUnavailable, Reason(err))
	assert.ErrorContains(t, err, "apiserver unavailable")
}

func TestSecretWithoutKeyMeansNoHeader(t *testing.T) {
	f := runnertest.New(t, nil)
	s := tokenSecret("ns", "s", "")
	s.Data = map[string][]byte{"other": []byte("x")}
	c := newClient(t, secrets(s), Options{URLTemplate: f.URLTemplate()})
	r, err := c.For(context.Background(), client.ObjectKey{Namespace: "ns", Name: "s"})
	require.NoError(t, err)
	require.NoError(t, r.RemoveRepo(context.Background(), "x"))
	require.Len(t, f.Calls(), 1)
	assert.Empty(t, f.Calls()[0].Token)
}

func TestRepoName(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/org/repo.git":   "repo",
		"https://github.com/org/repo":       "repo",
		"https://github.com/org/repo/":      "repo",
		"git@github.com:org/repo.git":       "repo",
		"git@host:repo.git":                 "repo",
		"https://gitlab.com/g/sub/tool.git": "tool",
		"repo":                              "repo",
	} {
		assert.Equal(t, want, RepoName(in), in)
	}
}

func TestURLTemplate(t *testing.T) {
	c := newClient(t, secrets(), Options{})
	u, err := c.baseURL("s1", "team-a")
	require.NoError(t, err)
	assert.Equal(t, "http://session-s1.team-a.svc.cluster.local:8001", u.String())

	for name, tmpl := range map[string]string{
		"does not parse": "http://{{.Name",
		"unknown field":  "http://{{.Pod}}",
		"not absolute":   "session-{{.Name}}:8001/x",
		"not http":       "ftp://{{.Name}}",
	} {
		_, err := New(secrets(), Options{URLTemplate: tmpl})
		assert.Error(t, err, name)
	}
}
