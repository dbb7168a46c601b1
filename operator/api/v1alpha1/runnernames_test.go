package v1alpha1

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func session(name string, env map[string]string) *AgenticSession {
	return &AgenticSession{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec:       AgenticSessionSpec{EnvironmentVariables: env},
	}
}

func TestValidateForRunnerAcceptsWhatAPodAndServiceCarry(t *testing.T) {
	for _, s := range []*AgenticSession{
		session("a", nil),
		session(strings.Repeat("a", MaxSessionNameLength), nil),
		session("1st-session", nil), // session-1st-session starts with a letter
		session("ok", map[string]string{"DEBUG": "1", "my.env-name": "", "1ST": "x", "a:b": "y"}),
	} {
		assert.Empty(t, ValidateForRunner(s), "%s %v", s.Name, s.Spec.EnvironmentVariables)
	}
}

func TestValidateForRunnerNamesTheProblemAndTheLimit(t *testing.T) {
	long := strings.Repeat("a", MaxSessionNameLength+1)
	errs := ValidateForRunner(session(long, nil))
	require.Len(t, errs, 1)
	assert.Equal(t, ReasonSessionNameTooLong, errs[0].Reason)
	assert.Equal(t, "metadata.name", errs[0].Field)
	assert.Contains(t, errs[0].Error(), "56 characters, at most 55")
	assert.Contains(t, errs[0].Error(), "63")
	assert.Equal(t, 55, MaxSessionNameLength)

	errs = ValidateForRunner(session("with.dot", nil))
	require.Len(t, errs, 1)
	assert.Equal(t, ReasonSessionNameInvalid, errs[0].Reason)
	assert.Contains(t, errs[0].Detail, `"session-with.dot" is not a DNS-1035 label`)

	errs = ValidateForRunner(session("env", map[string]string{"B=C": "1", "": "2", "OK": "3", "tab\t": "4"}))
	require.Len(t, errs, 3)
	for _, e := range errs {
		assert.Equal(t, ReasonEnvVarNameInvalid, e.Reason)
	}
	assert.Equal(t, `spec.environmentVariables[""]`, errs[0].Field, "sorted by name")
	assert.Equal(t, `spec.environmentVariables["B=C"]`, errs[1].Field)
	assert.Contains(t, errs[1].Detail, "'='")
	assert.Equal(t, `spec.environmentVariables["tab\t"]`, errs[2].Field)

	errs = ValidateForRunner(session(long, map[string]string{"X=Y": ""}))
	require.Len(t, errs, 2, "the session name first, then each env name")
	assert.Equal(t, ReasonSessionNameTooLong, errs[0].Reason)
	assert.Equal(t, ReasonEnvVarNameInvalid, errs[1].Reason)
}
