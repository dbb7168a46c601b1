package platformconfig

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

func TestValidateVertex(t *testing.T) {
	complete := Vertex{Enabled: true, ProjectID: "p", Region: "global", CredentialsPath: "/app/vertex/key.json"}
	tests := []struct {
		name        string
		vertex      Vertex
		wantMissing []string
		wantPresent []string
	}{
		{name: "off needs nothing", vertex: Vertex{}},
		{name: "on and complete", vertex: complete},
		{
			name:        "on without project",
			vertex:      Vertex{Enabled: true, Region: "global", CredentialsPath: "/k"},
			wantMissing: []string{"ANTHROPIC_VERTEX_PROJECT_ID"},
			wantPresent: []string{"CLOUD_ML_REGION", "GOOGLE_APPLICATION_CREDENTIALS"},
		},
		{
			name:        "on with nothing",
			vertex:      Vertex{Enabled: true},
			wantMissing: []string{"ANTHROPIC_VERTEX_PROJECT_ID", "CLOUD_ML_REGION", "GOOGLE_APPLICATION_CREDENTIALS"},
		},
		{
			name:        "on without region and credentials",
			vertex:      Vertex{Enabled: true, ProjectID: "p"},
			wantMissing: []string{"CLOUD_ML_REGION", "GOOGLE_APPLICATION_CREDENTIALS"},
			wantPresent: []string{"ANTHROPIC_VERTEX_PROJECT_ID"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Config{Vertex: tt.vertex}.ValidateVertex()
			if len(tt.wantMissing) == 0 {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, name := range tt.wantMissing {
				assert.Contains(t, err.Error(), name)
			}
			for _, name := range tt.wantPresent {
				assert.NotContains(t, err.Error(), name)
			}
		})
	}
}

// metadataOnly fails the test if anything but object metadata is requested.
func metadataOnly(t *testing.T, inner client.WithWatch) client.Reader {
	return interceptor.NewClient(inner, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			_, ok := obj.(*metav1.PartialObjectMetadata)
			assert.True(t, ok, "Secret read as %T, want metadata only", obj)
			return c.Get(ctx, key, obj, opts...)
		},
	})
}

func TestCheckVertexSecret(t *testing.T) {
	vertexOn := Config{Namespace: "ambient-code", Vertex: Vertex{Enabled: true}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ambient-vertex", Namespace: "ambient-code"}}
	elsewhere := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ambient-vertex", Namespace: "other"}}

	t.Run("present", func(t *testing.T) {
		reader := metadataOnly(t, fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(secret).Build())
		assert.Empty(t, vertexOn.CheckVertexSecret(context.Background(), reader))
	})
	t.Run("missing is a warning naming secret and namespace", func(t *testing.T) {
		reader := metadataOnly(t, fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(elsewhere).Build())
		warnings := vertexOn.CheckVertexSecret(context.Background(), reader)
		require.Len(t, warnings, 1)
		assert.Contains(t, warnings[0], "ambient-vertex")
		assert.Contains(t, warnings[0], "namespace ambient-code")
	})
	t.Run("API error is a warning", func(t *testing.T) {
		reader := interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme.Scheme).Build(), interceptor.Funcs{
			Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
				return errors.New("forbidden")
			},
		})
		warnings := vertexOn.CheckVertexSecret(context.Background(), reader)
		require.Len(t, warnings, 1)
		assert.Contains(t, warnings[0], "forbidden")
	})
	t.Run("Vertex off checks nothing", func(t *testing.T) {
		reader := interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme.Scheme).Build(), interceptor.Funcs{
			Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
				t.Error("Secret looked up with Vertex off")
				return nil
			},
		})
		assert.Empty(t, Config{Namespace: "ambient-code"}.CheckVertexSecret(context.Background(), reader))
	})
}
