package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"unicode/utf8"
)

// maxQuotedBytes is how much of an error body goes into the error message: enough
// to recognise the runner's complaint, short enough for a condition message.
const maxQuotedBytes = 256

// Condition reasons for a failed runner call.
const (
	ReasonRunnerError       = "RunnerError"
	ReasonRunnerTimeout     = "RunnerTimeout"
	ReasonRunnerUnreachable = "RunnerUnreachable"
	ReasonTokenUnavailable  = "TokenUnavailable"
)

// StatusError is a runner answer other than 200.
type StatusError struct {
	Path string
	Code int
	// Body is the start of the response body, quoted and shortened.
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("runner answered %d to %s: %s", e.Code, e.Path, e.Body)
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

// readErrorBody reads at most MaxBodyBytes of body, keeps only its first
// maxQuotedBytes and returns them quoted, marked when cut. Reading on past the
// kept prefix (still bounded) lets a modest error body free its connection.
func readErrorBody(body io.Reader) string {
	limited := io.LimitReader(body, MaxBodyBytes)
	buf := make([]byte, maxQuotedBytes)
	n, _ := io.ReadFull(limited, buf)
	rest, _ := io.Copy(io.Discard, limited)
	kept := buf[:n]
	if rest > 0 {
		// Do not split a UTF-8 sequence at the cut.
		for len(kept) > 0 && !utf8.Valid(kept) && len(buf[:n])-len(kept) < utf8.UTFMax {
			kept = kept[:len(kept)-1]
		}
	}
	quoted := strconv.Quote(string(kept))
	if rest > 0 {
		quoted += "…"
	}
	return quoted
}
