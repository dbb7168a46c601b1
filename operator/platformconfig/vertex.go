package platformconfig

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// VertexSecretName is the Secret holding the Vertex service-account key
// (key ambient-code-key.json), copied into session namespaces.
const VertexSecretName = "ambient-vertex"

// ValidateVertex is the start-up preflight: with Vertex on, the project,
// region and credentials path must all be set, since every runner needs them.
// The error names each missing variable so one restart fixes them all.
func (c Config) ValidateVertex() error {
	if !c.Vertex.Enabled {
		return nil
	}
	required := []struct{ name, value string }{
		{"ANTHROPIC_VERTEX_PROJECT_ID", c.Vertex.ProjectID},
		{"CLOUD_ML_REGION", c.Vertex.Region},
		{"GOOGLE_APPLICATION_CREDENTIALS", c.Vertex.CredentialsPath},
	}
	var missing []string
	for _, r := range required {
		if r.value == "" {
			missing = append(missing, r.name)
		}
	}
	if len(missing) > 0 {
		verb := "is"
		if len(missing) > 1 {
			verb = "are"
		}
		return fmt.Errorf("USE_VERTEX is enabled but %s %s not set", strings.Join(missing, ", "), verb)
	}
	return nil
}

// CheckVertexSecret looks for the Vertex Secret in the operator's namespace.
// As on the platform, its absence is not fatal (sessions fail until it is
// created), so the result is warnings only. Only metadata is fetched, so no
// key material is read. Pass an uncached reader (the manager's APIReader):
// the preflight runs before caches start, and a cached Get would start a
// cluster-wide Secret metadata informer.
func (c Config) CheckVertexSecret(ctx context.Context, reader client.Reader) []string {
	if !c.Vertex.Enabled {
		return nil
	}
	secret := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}}
	err := reader.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: VertexSecretName}, secret)
	switch {
	case err == nil:
		return nil
	case apierrors.IsNotFound(err):
		return []string{fmt.Sprintf(
			"secret %s not found in namespace %s; sessions using Vertex AI will fail until it exists "+
				"(kubectl create secret generic %s --from-file=ambient-code-key.json=<service-account.json> -n %s)",
			VertexSecretName, c.Namespace, VertexSecretName, c.Namespace)}
	default:
		return []string{fmt.Sprintf("checking secret %s in namespace %s: %v", VertexSecretName, c.Namespace, err)}
	}
}
