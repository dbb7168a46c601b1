package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// AgenticSessionSpec is what a user asks of a session.
type AgenticSessionSpec struct {
	// Repos are the Git repositories the runner clones and works with.
	// +optional
	Repos []RepoSpec `json:"repos,omitempty"`
	// InitialPrompt is sent to the agent on the first invocation of a new session only.
	// +optional
	InitialPrompt string `json:"initialPrompt,omitempty"`
	// DisplayName is a human-readable name for the session.
	// +optional
	DisplayName string `json:"displayName,omitempty"`
	// UserContext is the caller identity captured at creation time.
	// +optional
	UserContext *UserContext `json:"userContext,omitempty"`
	// LLMSettings configure the model the runner uses.
	// +optional
	LLMSettings *LLMSettings `json:"llmSettings,omitempty"`
	// Timeout is the session's run timeout in seconds.
	// +kubebuilder:default=300
	// +optional
	Timeout int `json:"timeout,omitempty"`
	// InactivityTimeout is the idle time in seconds before the session is stopped;
	// 0 disables it. Unset falls back to the project's, then to the operator default.
	// +kubebuilder:validation:Minimum=0
	// +optional
	InactivityTimeout *int `json:"inactivityTimeout,omitempty"`
	// StopOnRunFinished stops the session when the agent finishes its run.
	// +optional
	StopOnRunFinished *bool `json:"stopOnRunFinished,omitempty"`
	// EnvironmentVariables are injected into the runner's containers; reserved
	// names set by the operator cannot be overridden. A name a pod cannot carry
	// (empty, containing '=', or not printable ASCII) fails the session.
	// +optional
	EnvironmentVariables map[string]string `json:"environmentVariables,omitempty"`
	// MCPServers customise the MCP servers of this session.
	// +optional
	MCPServers *MCPServers `json:"mcpServers,omitempty"`
	// ActiveWorkflow is the workflow the runner has checked out.
	// +optional
	ActiveWorkflow *WorkflowSpec `json:"activeWorkflow,omitempty"`
}

// RepoSpec is one repository of a session.
type RepoSpec struct {
	// URL of the Git repository.
	URL string `json:"url"`
	// Branch to check out.
	// +kubebuilder:default=main
	// +optional
	Branch string `json:"branch,omitempty"`
	// AutoPush commits and pushes changes after the session completes.
	// +kubebuilder:default=false
	// +optional
	AutoPush *bool `json:"autoPush,omitempty"`
}

// UserContext is the authenticated caller of a session.
type UserContext struct {
	// +optional
	UserID string `json:"userId,omitempty"`
	// +optional
	DisplayName string `json:"displayName,omitempty"`
	// +optional
	Groups []string `json:"groups,omitempty"`
}

// LLMSettings configure the model.
type LLMSettings struct {
	// +kubebuilder:default=claude-sonnet-4-6
	// +optional
	Model string `json:"model,omitempty"`
	// +kubebuilder:default=0.7
	// +optional
	Temperature *float64 `json:"temperature,omitempty"`
	// +kubebuilder:default=4000
	// +optional
	MaxTokens *int `json:"maxTokens,omitempty"`
}

// MCPServers customise MCP servers; Custom maps a server name to its free-form config.
type MCPServers struct {
	// +optional
	Custom map[string]MCPServerConfig `json:"custom,omitempty"`
	// Disabled lists default MCP servers to turn off.
	// +optional
	Disabled []string `json:"disabled,omitempty"`
}

// MCPServerConfig is a free-form server configuration (stdio, http or sse); the
// operator passes it through without interpreting it.
// +kubebuilder:validation:Type=object
// +kubebuilder:pruning:PreserveUnknownFields
type MCPServerConfig struct {
	runtime.RawExtension `json:",inline"`
}

// WorkflowSpec selects a workflow repository.
type WorkflowSpec struct {
	// +optional
	GitURL string `json:"gitUrl,omitempty"`
	// +kubebuilder:default=main
	// +optional
	Branch string `json:"branch,omitempty"`
	// Path within the repository, for repositories with several workflows.
	// +optional
	Path string `json:"path,omitempty"`
}

// Phase is the lifecycle phase of a session.
// +kubebuilder:validation:Enum=Pending;Creating;Running;Stopping;Stopped;Completed;Failed
type Phase string

// The phases, in lifecycle order. Stopped, Completed and Failed are terminal.
const (
	PhasePending   Phase = "Pending"
	PhaseCreating  Phase = "Creating"
	PhaseRunning   Phase = "Running"
	PhaseStopping  Phase = "Stopping"
	PhaseStopped   Phase = "Stopped"
	PhaseCompleted Phase = "Completed"
	PhaseFailed    Phase = "Failed"
)

// IsTerminal reports whether a session in phase p has finished.
func (p Phase) IsTerminal() bool {
	return p == PhaseStopped || p == PhaseCompleted || p == PhaseFailed
}

// AgenticSessionStatus is what the operator and the runner observed.
type AgenticSessionStatus struct {
	// ObservedGeneration is the spec generation the operator has fully reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +kubebuilder:default=Pending
	// +optional
	Phase Phase `json:"phase,omitempty"`
	// StartTime is when the runner started executing.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// CompletionTime is when the session reached a terminal phase.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// +optional
	ReconciledRepos []ReconciledRepo `json:"reconciledRepos,omitempty"`
	// +optional
	ReconciledWorkflow *ReconciledWorkflow `json:"reconciledWorkflow,omitempty"`
	// LastActivityTime is the last recorded AG-UI activity.
	// +optional
	LastActivityTime *metav1.Time `json:"lastActivityTime,omitempty"`
	// StoppedReason mirrors the stop-reason annotation.
	// +kubebuilder:validation:Enum=user;inactivity
	// +optional
	StoppedReason string `json:"stoppedReason,omitempty"`
	// +optional
	SDKSessionID string `json:"sdkSessionId,omitempty"`
	// +optional
	SDKRestartCount int `json:"sdkRestartCount,omitempty"`
	// Conditions hold at most one entry per type (types compared case-insensitively),
	// which the webhook enforces on every write.
	// +optional
	Conditions []Condition `json:"conditions,omitempty"`
}

// ReconciledRepo is the runner's state of one repository.
type ReconciledRepo struct {
	// +optional
	URL string `json:"url,omitempty"`
	// Branch is deprecated upstream in favour of CurrentActiveBranch.
	// +optional
	Branch string `json:"branch,omitempty"`
	// +optional
	Branches []string `json:"branches,omitempty"`
	// +optional
	CurrentActiveBranch string `json:"currentActiveBranch,omitempty"`
	// +optional
	DefaultBranch string `json:"defaultBranch,omitempty"`
	// +optional
	Name string `json:"name,omitempty"`
	// +kubebuilder:validation:Enum=Cloning;Ready;Failed
	// +optional
	Status string `json:"status,omitempty"`
	// +optional
	ClonedAt *metav1.Time `json:"clonedAt,omitempty"`
}

// ReconciledWorkflow is the runner's state of the active workflow.
type ReconciledWorkflow struct {
	// +optional
	GitURL string `json:"gitUrl,omitempty"`
	// +optional
	Branch string `json:"branch,omitempty"`
	// +optional
	Path string `json:"path,omitempty"`
	// +kubebuilder:validation:Enum=Cloning;Active;Failed
	// +optional
	Status string `json:"status,omitempty"`
	// +optional
	AppliedAt *metav1.Time `json:"appliedAt,omitempty"`
}

// Condition is a status condition as the platform writes it: looser than
// metav1.Condition (reason, message and time are optional on the wire).
type Condition struct {
	Type string `json:"type"`
	// +kubebuilder:validation:Enum=True;False;Unknown
	Status metav1.ConditionStatus `json:"status"`
	// +optional
	Reason string `json:"reason,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// AgenticSession is one AI coding session; the operator runs it as a runner pod
// behind the Service session-<name>, so a session whose name has more than 55
// characters or a dot fails: that Service name would not be a DNS label.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=as
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AgenticSession struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec AgenticSessionSpec `json:"spec,omitempty"`
	// +optional
	Status AgenticSessionStatus `json:"status,omitempty"`
}

// AgenticSessionList is a list of AgenticSessions.
// +kubebuilder:object:root=true
type AgenticSessionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AgenticSession `json:"items"`
}

func init() {
	SchemeBuilder.Register(&AgenticSession{}, &AgenticSessionList{})
}
