package runnerpod

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/platformconfig"
)

// Inputs is everything a runner pod is built from, resolved by the caller
// (contract §3.1, §2.2, §2.5) so that Build needs no API reads.
type Inputs struct {
	// Session is the AgenticSession the pod runs.
	Session *v1alpha1.AgenticSession
	// Owner is the session's owner reference; Build makes it the controller.
	Owner metav1.OwnerReference
	// Config is the operator's configuration (contract §1.2). Config.Vertex
	// decides the Vertex env and envFrom; VertexSecretCopied the key mount.
	Config platformconfig.Config
	// Runtime is the session's registry entry with its defaults (contract §1.4).
	Runtime platformconfig.Runtime
	// S3 is the session storage (contract §2.5); all empty when unavailable.
	S3 S3
	// TokenSecret is T, the runner-token Secret (ambient-runner-token-N unless
	// the session's runner-token-secret annotation names another).
	TokenSecret string
	// IntegrationsSecret is whether ambient-non-vertex-integrations exists.
	IntegrationsSecret bool
	// VertexSecretCopied, LangfuseSecretCopied and MLflowSecretCopied are
	// whether those platform Secrets were copied into the namespace (§2.2).
	VertexSecretCopied, LangfuseSecretCopied, MLflowSecretCopied bool
	// MLflowKubernetesAuth is whether the copied MLflow Secret's
	// MLFLOW_TRACKING_AUTH is kubernetes or kubernetes-namespaced.
	MLflowKubernetesAuth bool
	// TrustedCABundle is whether ConfigMap trusted-ca-bundle with key
	// ca-bundle.crt exists in the namespace.
	TrustedCABundle bool
	// ProjectMCPServers is the JSON of ProjectSettings spec.mcpServers, "" when none.
	ProjectMCPServers string
	// VertexModelID is the model's Vertex ID from the models manifest (§1.5), or "".
	VertexModelID string
	// Resume sets IS_RESUME=true: the session started before and the
	// force-execute-prompt annotation is not "true" (§5.7).
	Resume bool
	// ServiceAccount is the session's ServiceAccount (ambient-session-N), the
	// pod's identity in the MLflow Kubernetes-auth case only; "" means that name.
	ServiceAccount string
}

// S3 is the resolved session storage passed to init-hydrate and state-sync as
// plain values (contract §2.5 step 6).
type S3 struct {
	Endpoint, Bucket, AccessKey, SecretKey string
}
