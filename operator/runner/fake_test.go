package runner

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// secrets is an API reader holding the given token Secrets.
func secrets(objs ...client.Object) client.Reader {
	return fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(objs...).Build()
}

func tokenSecret(ns, session, token string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.TokenSecretName(session)},
		Data:       map[string][]byte{v1alpha1.TokenSecretAGUIKey: []byte(token)},
	}
}

func newClient(t *testing.T, r client.Reader, opts Options) *Client {
	t.Helper()
	c, err := New(r, opts)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}
