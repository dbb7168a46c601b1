package v1alpha1

import (
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// The label, annotation and naming contract shared by the webhook, the operator and
// the platform's backend. Written once here so every program agrees on it.
const (
	// LabelManaged marks a platform-managed namespace.
	LabelManaged = "ambient-code.io/managed"
	// LabelRunner marks a runner pod; the operator's pod cache selects on it.
	LabelRunner = "ambient-code.io/runner"
	// LabelSession names the owning session (platform-compatible, Service selector).
	LabelSession = "agentic-session"
	// LabelApp is the platform-compatible app label of runner pods.
	LabelApp = "app"
	// LabelArchived marks a terminal session the operator no longer caches.
	LabelArchived = "ambient-code.io/archived"
	// LabelGroupAccess marks the RoleBindings the operator manages for
	// ProjectSettings groupAccess entries: listed and watched by it.
	LabelGroupAccess = "ambient-code.io/group-access"
	// LabelActiveRunner marks the identity objects (ServiceAccount,
	// RoleBinding, token Secret) of a session whose runner is running: put on
	// at every start, taken off once the session is terminal, so that the
	// operator's drift watch of them follows active sessions, not history.
	LabelActiveRunner = "ambient-code.io/active-runner"

	// AnnotationDesiredPhase carries Stopped/Running requests.
	AnnotationDesiredPhase = "ambient-code.io/desired-phase"
	// AnnotationStopReason carries user/inactivity.
	AnnotationStopReason = "ambient-code.io/stop-reason"
	// AnnotationStartRequestedAt is when a restart was asked for (RFC 3339), by
	// the backend or the session trigger; never cleared, as on the platform.
	AnnotationStartRequestedAt = "ambient-code.io/start-requested-at"
	// LabelScheduledSessionName names the backend's CronJob a session was
	// created for; the session trigger's reuse mode lists by it.
	LabelScheduledSessionName = "ambient-code.io/scheduled-session-name"
	// LabelScheduledRun marks a session the session trigger created.
	LabelScheduledRun = "ambient-code.io/scheduled-run"
	// AnnotationStopRequestedAt is when the platform's backend asked for a stop;
	// cleared once the stop is acted on, as the platform's operator does.
	AnnotationStopRequestedAt = "ambient-code.io/stop-requested-at"

	// DesiredStopped and DesiredRunning are the values of AnnotationDesiredPhase: a
	// stop request, and a restart request for a terminal session.
	DesiredStopped = string(PhaseStopped)
	DesiredRunning = string(PhaseRunning)

	// ValueTrue is the value of boolean labels.
	ValueTrue = "true"
	// RunnerAppName is the value of LabelApp on runner pods.
	RunnerAppName = "ambient-code-runner"

	// StopReasonUser and StopReasonInactivity are the values of AnnotationStopReason.
	StopReasonUser       = "user"
	StopReasonInactivity = "inactivity"

	// RunnerContainerName is the runner container in the runner pod, named as the
	// platform names it: its pod-status inspection finds the container by name.
	RunnerContainerName = "ambient-code-runner"
	// RunnerPortName and RunnerPort are where the runner serves AG-UI and its HTTP
	// API, behind the session's Service.
	RunnerPortName = "agui"
	RunnerPort     = 8001
)

// RunnerPodName is the runner pod's name for a session.
func RunnerPodName(session string) string { return session + "-runner" }

// ServiceName is the name of the session's Service, as the platform names it; the
// runner's base URL is http://session-<name>.<namespace>.svc.cluster.local:8001.
func ServiceName(session string) string { return "session-" + session }

// RunnerLabels returns the three labels every runner pod of session carries.
func RunnerLabels(session string) map[string]string {
	return map[string]string{
		LabelRunner:  ValueTrue,
		LabelSession: session,
		LabelApp:     RunnerAppName,
	}
}

// RestartRequested reports whether annotations ask for a (re)start.
func RestartRequested(annotations map[string]string) bool {
	return annotations[AnnotationDesiredPhase] == DesiredRunning
}

// IsArchived reports whether labels hold the archived label. Any value counts,
// because the informer's selector is on the key alone.
func IsArchived(l map[string]string) bool {
	_, ok := l[LabelArchived]
	return ok
}

// RunnerPodSelector selects runner pods, as the operator's pod informer does.
func RunnerPodSelector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{LabelRunner: ValueTrue})
}

// RunnerServiceSelector selects runner Services (both labels the operator puts
// on the Service it creates), as the operator's Service watch does.
func RunnerServiceSelector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{LabelApp: RunnerAppName})
}

// ActiveRunnerSelector selects the identity objects of active runners.
func ActiveRunnerSelector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{LabelActiveRunner: ValueTrue})
}

// GroupAccessBindingSelector selects the operator's groupAccess RoleBindings.
func GroupAccessBindingSelector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{LabelGroupAccess: ValueTrue})
}

// ManagedNamespaceSelector selects managed namespaces.
func ManagedNamespaceSelector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{LabelManaged: ValueTrue})
}

// NotArchivedSelector is the session informer's selector: sessions without the
// archived label. ArchivedSelector is its exact complement, so every session is
// either in the operator's cache or within reach of the archive backstop.
func NotArchivedSelector() labels.Selector { return archivedSelector(selection.DoesNotExist) }

// ArchivedSelector selects sessions carrying the archived label (any value).
func ArchivedSelector() labels.Selector { return archivedSelector(selection.Exists) }

func archivedSelector(op selection.Operator) labels.Selector {
	req, err := labels.NewRequirement(LabelArchived, op, nil)
	if err != nil {
		panic(err) // a constant key and operator: cannot fail
	}
	return labels.NewSelector().Add(*req)
}

// The runner's identity (contract §2.3, §4): a ServiceAccount per session whose
// token the runner presents to the backend, bound to the runner's ClusterRole,
// and a Secret holding that token and the AG-UI bearer token.
const (
	// AnnotationRunnerSA and AnnotationRunnerTokenSecret on a session name its
	// ServiceAccount and token Secret; the backend checks a runner's token against
	// the former.
	AnnotationRunnerSA          = "ambient-code.io/runner-sa"
	AnnotationRunnerTokenSecret = "ambient-code.io/runner-token-secret"
	// AnnotationCreatedByUserID on the ServiceAccount is the human the backend
	// acts for when the runner calls it with that ServiceAccount's token.
	AnnotationCreatedByUserID = "ambient-code.io/created-by-user-id"
	// AnnotationTokenRefreshedAt on the token Secret is when k8s-token was minted.
	AnnotationTokenRefreshedAt = "ambient-code.io/token-refreshed-at"
	// AnnotationForceExecutePrompt=true makes a resumed runner run its prompt
	// (no IS_RESUME); the operator clears it as it builds the pod.
	AnnotationForceExecutePrompt = "ambient-code.io/force-execute-prompt"

	// RunnerSAAppName and TokenSecretAppName are the app labels of the
	// ServiceAccount and the token Secret.
	RunnerSAAppName    = "ambient-runner"
	TokenSecretAppName = "ambient-runner-token"

	// TokenSecretK8sTokenKey holds the ServiceAccount token (the runner's
	// bot-token file, init-hydrate's BOT_TOKEN); TokenSecretAGUIKey the bearer
	// token the runner requires on its HTTP API.
	TokenSecretK8sTokenKey = "k8s-token"
	TokenSecretAGUIKey     = "agui-token"
)

// RunnerServiceAccountName is the session's runner ServiceAccount.
func RunnerServiceAccountName(session string) string { return "ambient-session-" + session }

// RunnerRoleBindingName binds the runner ServiceAccount to the runner's role.
func RunnerRoleBindingName(session string) string { return "ambient-session-" + session + "-rb" }

// TokenSecretName is the session's token Secret. The backend and the operator
// always read this name, whatever AnnotationRunnerTokenSecret says.
func TokenSecretName(session string) string { return "ambient-runner-token-" + session }
