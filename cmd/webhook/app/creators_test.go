package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ambient-code/agentic-operator/cmd/webhook/app"
)

// --runner-creators reaches the admission handlers as a trimmed list, and its
// absence is warned about, since it leaves runner pods creatable by anyone.
func TestRunnerCreatorsFlag(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []string
		want  []string
		warns bool
	}{
		{"set", []string{"--runner-creators", "system:serviceaccount:ambient-code-system:ambient-code-operator, bob,"},
			[]string{"system:serviceaccount:ambient-code-system:ambient-code-operator", "bob"}, false},
		{"unset", nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			got := make(chan []string, 1)
			h.start(t, func(a app.Admission) map[string]http.Handler {
				got <- a.RunnerCreators
				return map[string]http.Handler{"/echo": echo}
			}, tc.extra...)
			assert.Equal(t, tc.want, <-got)
			assert.Equal(t, tc.warns, strings.Contains(h.logs.String(), "--runner-creators is not set"), "logs: %s", h.logs.String())
		})
	}
}
