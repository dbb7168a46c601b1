package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
)

// Condition reasons for a failed runner call.
const (
	ReasonRunnerError       = "RunnerError"
	ReasonRunnerTimeout     = "RunnerTimeout"
	ReasonRunnerUnreachable = "RunnerUnreachable"
	ReasonTokenUnavailable  = "TokenUnavailable"
)

// StatusError is a runner answer other than 200. It keeps the body's length, not
// its bytes: whatever answered may not be the runner, and what it wrote must not
// reach the session's status, where anyone who can read the session sees it.
type StatusError struct {
	Path string
	Code int
	// BodyBytes is the length of the body as read, at most MaxBodyBytes;
	// BodyCut says the body went on past that.
	BodyBytes int64
	BodyCut   bool
}

func (e *StatusError) Error() string {
	more := ""
	if e.BodyCut {
		more = " or more"
	}
	return fmt.Sprintf("runner answered %d %s to %s (a %d%s byte body, not copied)",
		e.Code, http.StatusText(e.Code), e.Path, e.BodyBytes, more)
}

// TokenError is a failure to read the token Secret (other than its absence).
type TokenError struct{ Err error }

func (e *TokenError) Error() string { return "session token: " + e.Err.Error() }
func (e *TokenError) Unwrap() error { return e.Err }

// Reason classifies err for a condition reason.
func Reason(err error) string {
	var status *StatusError
	var token *TokenError
	var netErr net.Error
	switch {
	case errors.As(err, &status):
		return ReasonRunnerError
	case errors.As(err, &token):
		return ReasonTokenUnavailable
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return ReasonRunnerTimeout
	default:
		return ReasonRunnerUnreachable
	}
}

// measureErrorBody reads at most MaxBodyBytes of body and returns how many bytes
// it read and whether the body went on. Reading it (still bounded) lets a modest
// error body free its connection.
func measureErrorBody(body io.Reader) (n int64, cut bool) {
	n, _ = io.Copy(io.Discard, io.LimitReader(body, MaxBodyBytes))
	if n == MaxBodyBytes {
		var one [1]byte
		m, _ := body.Read(one[:])
		cut = m > 0
	}
	return n, cut
}
