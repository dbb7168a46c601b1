package operator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/conditions"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/session"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// names: sessions the API server stores but no runner pod or Service can be made
// for fail at once, saying which name, why and the limit, with nothing created.
func (o *ownership) names(t *testing.T) {
	const ns = "names"
	o.env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	ctx := context.Background()

	for _, tc := range []struct {
		test, name string
		env        map[string]string
		reason     string
		says       []string
	}{
		{"a 56-character name", strings.Repeat("n", 56), nil, v1alpha1.ReasonSessionNameTooLong,
			[]string{"metadata.name", "56 characters, at most 55", "DNS-1035 label of at most 63 characters"}},
		{"a name with a dot", "with.dot", nil, v1alpha1.ReasonSessionNameInvalid,
			[]string{"metadata.name", `"session-with.dot" is not a DNS-1035 label`}},
		{"an env var name with '='", "bad-env", map[string]string{"GOOD": "1", "A=B": "2"}, v1alpha1.ReasonEnvVarNameInvalid,
			[]string{`spec.environmentVariables["A=B"]`, "'='"}},
	} {
		t.Run(tc.test, func(t *testing.T) {
			s := &v1alpha1.AgenticSession{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tc.name},
				Spec:       v1alpha1.AgenticSessionSpec{InitialPrompt: "hello", EnvironmentVariables: tc.env},
			}
			require.NoError(t, o.env.Client.Create(ctx, s), "the API server (and the platform's CRD) stores it")
			got := o.refusedThenFailed(t, ns, tc.name, session.CondNamesValid, tc.reason, false)
			msg := conditions.FindSession(got.Status.Conditions, session.CondNamesValid).Message
			for _, want := range tc.says {
				assert.Contains(t, msg, want)
			}
			o.noRunnerPod(t, ns, tc.name)
			_, err := o.service(ctx, ns, tc.name)
			assert.True(t, apierrors.IsNotFound(err), "no Service was created: %v", err)
			testenv.Eventually(t, waitTimeout, "events", o.eventsInclude(ns, tc.name, tc.reason, "Failed"))
		})
	}
}
