package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

const (
	// TokenHeader carries the session token on every runner request.
	TokenHeader = "X-Ambient-Session-Token"
)

// Runner is the runner of one session, resolved once per reconcile: its base URL
// and token (empty when the Secret does not exist).
type Runner struct {
	c     *Client
	base  *url.URL
	token string
}

// For resolves session's runner, reading its token Secret uncached.
func (c *Client) For(ctx context.Context, session client.ObjectKey) (*Runner, error) {
	base, err := c.baseURL(session.Name, session.Namespace)
	if err != nil {
		return nil, err
	}
	token, err := c.token(ctx, session)
	if err != nil {
		return nil, err
	}
	return &Runner{c: c, base: base, token: token}, nil
}

func (c *Client) token(ctx context.Context, session client.ObjectKey) (string, error) {
	var s corev1.Secret
	key := client.ObjectKey{Namespace: session.Namespace, Name: v1alpha1.TokenSecretName(session.Name)}
	if err := c.secrets.Get(ctx, key, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil // a runner without a token Secret is called without the header
		}
		return "", &TokenError{Err: fmt.Errorf("reading Secret %s: %w", key, err)}
	}
	return string(s.Data[v1alpha1.TokenSecretAGUIKey]), nil
}

// AddRepo asks the runner to clone a repository, or to switch its branch.
func (r *Runner) AddRepo(ctx context.Context, url, branch, name string) error {
	return r.post(ctx, "/repos/add", struct {
		URL    string `json:"url"`
		Branch string `json:"branch"`
		Name   string `json:"name"`
	}{url, branch, name})
}

// RemoveRepo asks the runner to drop the repository called name.
func (r *Runner) RemoveRepo(ctx context.Context, name string) error {
	return r.post(ctx, "/repos/remove", struct {
		Name string `json:"name"`
	}{name})
}

// SetWorkflow asks the runner to check out a workflow.
func (r *Runner) SetWorkflow(ctx context.Context, gitURL, branch, path string) error {
	return r.post(ctx, "/workflow", struct {
		GitURL string `json:"gitUrl"`
		Branch string `json:"branch"`
		Path   string `json:"path"`
	}{gitURL, branch, path})
}

// RepoName is the runner's name of a repository: the last path element of its
// URL without ".git" (scp-like "git@host:org/repo.git" included).
func RepoName(repoURL string) string {
	s := strings.TrimRight(strings.TrimSpace(repoURL), "/")
	if i := strings.LastIndexAny(s, "/:"); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSuffix(s, ".git")
}

func (r *Runner) post(ctx context.Context, path string, payload any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encoding %s payload: %w", path, err)
	}
	u := r.base.JoinPath(path)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building request %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if r.token != "" {
		req.Header.Set(TokenHeader, r.token)
	}
	resp, err := r.c.http.Do(req)
	if err != nil {
		return fmt.Errorf("calling runner %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		// Drain (bounded) so the connection goes back to the pool; a body over
		// the bound costs a connection, never memory.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxBodyBytes))
		return nil
	}
	n, cut := measureErrorBody(resp.Body)
	return &StatusError{Path: path, Code: resp.StatusCode, BodyBytes: n, BodyCut: cut}
}
