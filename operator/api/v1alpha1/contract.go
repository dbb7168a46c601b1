package v1alpha1

// The label and annotation contract shared by the webhook and the operator
// (ARCHITECTURE.md, "The contract"). Written once here so both programs agree.
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

	// AnnotationDesiredPhase carries Stopped/Running requests.
	AnnotationDesiredPhase = "ambient-code.io/desired-phase"
	// AnnotationStopReason carries user/inactivity.
	AnnotationStopReason = "ambient-code.io/stop-reason"

	// ValueTrue is the value of boolean labels.
	ValueTrue = "true"
	// RunnerAppName is the value of LabelApp on runner pods.
	RunnerAppName = "ambient-code-runner"

	// StopReasonUser and StopReasonInactivity are the values of AnnotationStopReason.
	StopReasonUser       = "user"
	StopReasonInactivity = "inactivity"
)

// RunnerLabels returns the three labels every runner pod of session carries (I1).
func RunnerLabels(session string) map[string]string {
	return map[string]string{
		LabelRunner:  ValueTrue,
		LabelSession: session,
		LabelApp:     RunnerAppName,
	}
}
