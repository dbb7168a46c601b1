package manifests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const twoPolicies = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: a}
spec:
  variables:
  - {name: other, expression: "1 + 1"}
  - {name: creators, expression: "['system:serviceaccount:ns:op']"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: a}
spec: {policyName: a}
`

func TestRunnerCreatorsEvaluatesTheList(t *testing.T) {
	objs, err := Decode([]byte(twoPolicies))
	require.NoError(t, err)
	got, err := RunnerCreators(objs)
	require.NoError(t, err)
	assert.Equal(t, []string{"system:serviceaccount:ns:op"}, got)
}

// SetRunnerCreators writes a list that RunnerCreators reads back unchanged,
// quotes and all.
func TestSetRunnerCreatorsRoundTrips(t *testing.T) {
	objs, err := Decode([]byte(twoPolicies))
	require.NoError(t, err)
	want := []string{"admin", `odd"name`, "system:serviceaccount:x:y"}
	require.NoError(t, SetRunnerCreators(objs, want))
	got, err := RunnerCreators(objs)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestRunnerCreatorsRefusesWhatIsNotAStringList(t *testing.T) {
	for name, expr := range map[string]string{
		"not a list":     "'admin'",
		"not strings":    "[1, 2]",
		"does not parse": "['admin'",
	} {
		t.Run(name, func(t *testing.T) {
			objs, err := Decode([]byte("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\n" +
				"metadata: {name: p}\nspec:\n  variables:\n  - name: creators\n    expression: \"" + expr + "\"\n"))
			require.NoError(t, err)
			_, err = RunnerCreators(objs)
			require.Error(t, err)
			assert.Contains(t, err.Error(), `ValidatingAdmissionPolicy p: variable "creators"`)
		})
	}
}

func TestRunnerCreatorsNeedsAPolicyWithTheList(t *testing.T) {
	objs, err := Decode([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"))
	require.NoError(t, err)
	_, err = RunnerCreators(objs)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no ValidatingAdmissionPolicy has a "creators" variable`)
}

// Two policies naming different creators would let the API server and the
// webhook disagree depending on the rule; that is refused.
func TestRunnerCreatorsRefusesDisagreement(t *testing.T) {
	objs, err := Decode([]byte(twoPolicies + `---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: b}
spec:
  variables:
  - {name: creators, expression: "['admin']"}
`))
	require.NoError(t, err)
	_, err = RunnerCreators(objs)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ValidatingAdmissionPolicy b lists runner creators [admin]")
}
