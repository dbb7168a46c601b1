package platformconfig

import (
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
)

// logLines collects what a logger writes, one string per line.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func newTestLogger(t *testing.T) (logr.Logger, *logLines) {
	t.Helper()
	collected := &logLines{}
	log := funcr.New(func(prefix, args string) {
		collected.mu.Lock()
		defer collected.mu.Unlock()
		collected.lines = append(collected.lines, prefix+" "+args)
	}, funcr.Options{})
	return log, collected
}

// containing returns the lines that contain every one of parts.
func (l *logLines) containing(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		matches := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				matches = false
				break
			}
		}
		if matches {
			out = append(out, line)
		}
	}
	return out
}

func (l *logLines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}
