package session

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/copiedsecrets"
	"github.com/ambient-code/agentic-operator/operator/runneridentity"
	"github.com/ambient-code/agentic-operator/operator/runnerpod"
)

// Condition types and reasons of a runner's prerequisites, as the platform names them.
const (
	CondSecretsReady            = "SecretsReady"
	CondIntegrationSecretsReady = "IntegrationSecretsReady"
	CondS3Available             = "S3Available"

	ReasonRunnerSecretMissing  = "RunnerSecretMissing"
	ReasonVertexSecretMissing  = "VertexSecretMissing"
	ReasonVertexSecretTaken    = "VertexSecretNameTaken"
	ReasonAllSecretsFound      = "AllRequiredSecretsFound"
	ReasonOptionalSecretFound  = "OptionalSecretFound"
	ReasonS3Configured         = "Configured"
	ReasonS3NotConfigured      = "NotConfigured"
	reasonIdentityNameTakenFmt = "%sNameTaken"
)

// Secrets the runner pod refers to in the session's namespace (contract §1.7).
const (
	RunnerSecretsName      = "ambient-runner-secrets"
	IntegrationSecretsName = "ambient-non-vertex-integrations"
	TrustedCABundleName    = "trusted-ca-bundle"
	TrustedCABundleKey     = "ca-bundle.crt"
	minioCredentialsName   = "minio-credentials"
)

// prepared is what a new runner pod is built from, and the conditions that
// record how its prerequisites were found.
type prepared struct {
	inputs     runnerpod.Inputs
	conditions []v1alpha1.Condition
}

// prepareInputs gathers, from the API server (Secrets and ConfigMaps are never
// cached), everything the runner pod refers to (contract §2.1 steps 2-7): the
// copied platform Secrets, the runner's identity, the prerequisite Secrets, S3
// and the CA bundle. A refusal says what stops the runner from starting.
func (r *Reconciler) prepareInputs(ctx context.Context, s *v1alpha1.AgenticSession) (*prepared, *Refusal, error) {
	cfg := r.Runner.Platform
	owner := OwnerReference(s)
	p := &prepared{inputs: runnerpod.Inputs{
		Session: s, Config: cfg, Owner: owner,
		Runtime:     r.Runner.runtime(s),
		TokenSecret: v1alpha1.TokenSecretName(s.Name),
		// A session that ran before resumes its conversation rather than
		// running its prompt again, unless the trigger asked for the prompt.
		Resume: s.Status.StartTime != nil && s.Annotations[v1alpha1.AnnotationForceExecutePrompt] != v1alpha1.ValueTrue,
	}}
	in := &p.inputs

	copier := &copiedsecrets.Copier{Client: r.Client, Live: r.APIReader, SourceNamespace: cfg.BackendNamespace}
	if cfg.Vertex.Enabled {
		outcome, _, err := copier.Copy(ctx, s, owner, copiedsecrets.Vertex)
		switch {
		case err != nil:
			return nil, nil, err
		case outcome == copiedsecrets.SourceMissing:
			return nil, &Refusal{Type: CondSecretsReady, Reason: ReasonVertexSecretMissing, AtOnce: true,
				Message: fmt.Sprintf("Vertex AI is on but Secret %s/%s does not exist; create it, then restart the session",
					cfg.BackendNamespace, copiedsecrets.Vertex)}, nil
		case outcome == copiedsecrets.NameTaken:
			return nil, &Refusal{Type: CondSecretsReady, Reason: ReasonVertexSecretTaken, AtOnce: true,
				Message: fmt.Sprintf("Secret %s in this namespace was not copied by the operator, which leaves it alone; "+
					"delete it so the platform's Vertex credentials can be copied, then restart the session", copiedsecrets.Vertex)}, nil
		}
		in.VertexSecretCopied = true
	}
	if cfg.LangfuseEnabled {
		outcome, _, err := copier.Copy(ctx, s, owner, copiedsecrets.Langfuse)
		if err != nil {
			return nil, nil, err
		}
		in.LangfuseSecretCopied = outcome == copiedsecrets.Copied
	}
	if cfg.MLflowEnabled {
		outcome, source, err := copier.Copy(ctx, s, owner, copiedsecrets.MLflow)
		if err != nil {
			return nil, nil, err
		}
		in.MLflowSecretCopied = outcome == copiedsecrets.Copied
		if in.MLflowSecretCopied {
			switch strings.TrimSpace(string(source.Data["MLFLOW_TRACKING_AUTH"])) {
			case "kubernetes", "kubernetes-namespaced":
				in.MLflowKubernetesAuth = true
				in.ServiceAccount = v1alpha1.RunnerServiceAccountName(s.Name)
			}
		}
	}

	taken, err := r.provisioner().Ensure(ctx, s, owner)
	if err != nil {
		return nil, nil, fmt.Errorf("provisioning the runner identity of %s: %w", klog.KObj(s), err)
	}
	if taken != nil {
		return nil, identityRefusal(taken, r.Runner.conflictGrace()), nil
	}

	found := func(typ, reason, msg string) {
		p.conditions = append(p.conditions, v1alpha1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: reason, Message: msg})
	}
	if !cfg.Vertex.Enabled {
		exists, err := r.secretExists(ctx, s.Namespace, RunnerSecretsName)
		if err != nil {
			return nil, nil, err
		}
		if !exists {
			return nil, &Refusal{Type: CondSecretsReady, Reason: ReasonRunnerSecretMissing, Wait: true,
				Message: fmt.Sprintf("Secret %s (the runner's API keys) does not exist in this namespace; the session starts once it does", RunnerSecretsName)}, nil
		}
	}
	integrations, err := r.readSecret(ctx, s.Namespace, IntegrationSecretsName)
	if err != nil {
		return nil, nil, err
	}
	if integrations != nil {
		in.IntegrationsSecret = true
		found(CondIntegrationSecretsReady, ReasonOptionalSecretFound, "Secret "+IntegrationSecretsName+" found")
	}
	found(CondSecretsReady, ReasonAllSecretsFound, "every Secret the runner needs exists")

	if in.S3, err = r.resolveS3(ctx, integrations); err != nil {
		return nil, nil, err
	}
	if in.S3.Endpoint == "" || in.S3.Bucket == "" || in.S3.AccessKey == "" || in.S3.SecretKey == "" {
		in.S3 = runnerpod.S3{}
		p.conditions = append(p.conditions, v1alpha1.Condition{Type: CondS3Available, Status: metav1.ConditionFalse,
			Reason: ReasonS3NotConfigured, Message: "S3 storage is not configured: session state is not saved"})
	} else {
		found(CondS3Available, ReasonS3Configured, fmt.Sprintf("S3 storage configured: %s/%s", in.S3.Endpoint, in.S3.Bucket))
	}

	if in.TrustedCABundle, err = r.hasCABundle(ctx, s.Namespace); err != nil {
		return nil, nil, err
	}
	in.ProjectMCPServers = r.projectMCPServers(ctx, s.Namespace)
	if r.Runner.Models != nil && s.Spec.LLMSettings != nil && s.Spec.LLMSettings.Model != "" {
		in.VertexModelID = r.Runner.Models.VertexID(s.Spec.LLMSettings.Model)
	}
	return p, nil, nil
}

// identityRefusal is the refusal for an identity object s does not control.
func identityRefusal(t *runneridentity.Taken, grace time.Duration) *Refusal {
	return &Refusal{
		Type:   CondRunnerObjectsOwned,
		Reason: fmt.Sprintf(reasonIdentityNameTakenFmt, t.Kind),
		Message: fmt.Sprintf("%s exists and is not controlled by this session; the operator leaves it alone and gives the runner no identity. "+
			"Delete it or recreate the session under another name; the session fails if it is still there %s after this was first recorded", t, grace),
	}
}

// resolveS3 is the contract's §2.5 resolution: the project's integration Secret
// in custom mode, the operator's defaults, and minio-credentials from the
// backend namespace when shared storage lacks keys.
func (r *Reconciler) resolveS3(ctx context.Context, integrations *corev1.Secret) (runnerpod.S3, error) {
	cfg := r.Runner.Platform
	var s3 runnerpod.S3
	if integrations != nil && strings.TrimSpace(string(integrations.Data["STORAGE_MODE"])) == "custom" {
		s3 = runnerpod.S3{
			Endpoint: string(integrations.Data["S3_ENDPOINT"]), Bucket: string(integrations.Data["S3_BUCKET"]),
			AccessKey: string(integrations.Data["S3_ACCESS_KEY"]), SecretKey: string(integrations.Data["S3_SECRET_KEY"]),
		}
	}
	if s3.Endpoint == "" {
		s3.Endpoint = cfg.S3Endpoint
	}
	if s3.Bucket == "" {
		s3.Bucket = cfg.S3Bucket
	}
	if (s3.AccessKey == "" || s3.SecretKey == "") && s3.Endpoint == cfg.S3Endpoint && s3.Bucket == cfg.S3Bucket {
		minio, err := r.readSecret(ctx, cfg.BackendNamespace, minioCredentialsName)
		if err != nil {
			return s3, err
		}
		if minio != nil {
			s3.AccessKey, s3.SecretKey = string(minio.Data["access-key"]), string(minio.Data["secret-key"])
		}
	}
	return s3, nil
}

// secretExists reads only the metadata of a Secret: its data is not needed.
func (r *Reconciler) secretExists(ctx context.Context, ns, name string) (bool, error) {
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, meta)
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading Secret %s/%s: %w", ns, name, err)
	}
	return true, nil
}

// readSecret reads a Secret from the API server; nil when it does not exist.
func (r *Reconciler) readSecret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading Secret %s/%s: %w", ns, name, err)
	}
	return secret, nil
}

// hasCABundle reports whether the namespace's trusted-ca-bundle ConfigMap holds
// the bundle the runner mounts.
func (r *Reconciler) hasCABundle(ctx context.Context, ns string) (bool, error) {
	cm := &corev1.ConfigMap{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: TrustedCABundleName}, cm)
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading ConfigMap %s/%s: %w", ns, TrustedCABundleName, err)
	}
	_, inData := cm.Data[TrustedCABundleKey]
	_, inBinary := cm.BinaryData[TrustedCABundleKey]
	return inData || inBinary, nil
}

// projectMCPServers is the JSON of the project's MCP servers, from the cache;
// "" when the project sets none or its settings cannot be read (as on the platform).
func (r *Reconciler) projectMCPServers(ctx context.Context, ns string) string {
	ps := &v1alpha1.ProjectSettings{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: v1alpha1.ProjectSettingsName}, ps); err != nil {
		if !apierrors.IsNotFound(err) {
			log.FromContext(ctx).Info("Reading ProjectSettings for MCP servers failed; starting without them", "error", err.Error())
		}
		return ""
	}
	if ps.Spec.MCPServers == nil || (len(ps.Spec.MCPServers.Custom) == 0 && len(ps.Spec.MCPServers.Disabled) == 0) {
		return ""
	}
	data, err := json.Marshal(ps.Spec.MCPServers)
	if err != nil {
		return ""
	}
	return string(data)
}
