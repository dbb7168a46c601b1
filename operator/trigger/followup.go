package trigger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// runInput is the AG-UI run the backend's /agui/run accepts. Fields are in
// alphabetical order so that the encoding is byte for byte the platform's,
// which encodes a map (sorted keys).
type runInput struct {
	Messages []runMessage `json:"messages"`
	RunID    string       `json:"runId"`
	ThreadID string       `json:"threadId"`
}

type runMessage struct {
	Content string `json:"content"`
	ID      string `json:"id"`
	Role    string `json:"role"`
}

// errorBodyLimit bounds how much of a failed response goes into the error.
const errorBodyLimit = 512

// RunURL is the backend endpoint that starts a run of session in namespace ns;
// going through the backend (not the runner) persists and broadcasts the run.
func RunURL(base, ns, session string) string {
	return strings.TrimSuffix(base, "/") + "/api/projects/" + ns + "/agentic-sessions/" + session + "/agui/run"
}

// RunBody is the request body that sends prompt to session at time at: the
// session is the thread, the run id carries Unix seconds and the message id
// Unix nanoseconds.
func RunBody(session, prompt string, at time.Time) ([]byte, error) {
	body, err := json.Marshal(runInput{
		ThreadID: session,
		RunID:    fmt.Sprintf("scheduled-%d", at.Unix()),
		Messages: []runMessage{{ID: fmt.Sprintf("scheduled-msg-%d", at.UnixNano()), Role: "user", Content: prompt}},
	})
	if err != nil {
		return nil, fmt.Errorf("encoding the run input: %w", err)
	}
	return body, nil
}

// sendPrompt starts a run of the running session with prompt, as the pod's
// ServiceAccount; any status of 400 or more is an error.
func sendPrompt(ctx context.Context, opts Options, session, prompt string) error {
	body, err := RunBody(session, prompt, opts.Now())
	if err != nil {
		return err
	}
	// Read on every run: the kubelet rotates the projected token.
	token, err := os.ReadFile(opts.TokenFile)
	if err != nil {
		return fmt.Errorf("reading the ServiceAccount token: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, RequestTimeout)
	defer cancel()
	url := RunURL(opts.BackendURL, opts.Namespace, session)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	// Trimmed: a trailing newline would make the header invalid.
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := opts.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("posting to %s: %w", url, err)
	}
	// Closed, not drained: the response may be a stream that lasts the run.
	defer resp.Body.Close()
	if resp.StatusCode >= http.StatusBadRequest {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
		return fmt.Errorf("backend answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
