package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProjectSettingsName is the only name a ProjectSettings may have: one per namespace.
const ProjectSettingsName = "projectsettings"

// ProjectSettingsSpec configures a project (a managed namespace).
type ProjectSettingsSpec struct {
	// GroupAccess grants groups a role in the project through RoleBindings.
	// Required, and may be empty.
	GroupAccess []GroupAccess `json:"groupAccess"`
	// RunnerSecretsName names the Secret holding runner configuration.
	// +optional
	RunnerSecretsName string `json:"runnerSecretsName,omitempty"`
	// Repositories configured for the project.
	// +optional
	Repositories []ProjectRepository `json:"repositories,omitempty"`
	// InactivityTimeoutSeconds is the project's default session inactivity timeout;
	// 0 disables. A session's spec.inactivityTimeout overrides it.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:default=86400
	// +optional
	InactivityTimeoutSeconds *int `json:"inactivityTimeoutSeconds,omitempty"`
	// MCPServers are the project's default MCP servers.
	// +optional
	MCPServers *MCPServers `json:"mcpServers,omitempty"`
}

// Role is a project role a group can be granted.
// +kubebuilder:validation:Enum=admin;edit;view
type Role string

// GroupAccess grants Role to GroupName.
type GroupAccess struct {
	GroupName string `json:"groupName"`
	Role      Role   `json:"role"`
}

// ProjectRepository is a repository configured for the project.
type ProjectRepository struct {
	URL string `json:"url"`
	// +optional
	Branch string `json:"branch,omitempty"`
	// +kubebuilder:validation:Enum=github;gitlab
	// +optional
	Provider string `json:"provider,omitempty"`
}

// ProjectSettingsStatus is what the operator provisioned.
type ProjectSettingsStatus struct {
	// GroupBindingsCreated counts the group RoleBindings in place.
	// +kubebuilder:validation:Minimum=0
	// +optional
	GroupBindingsCreated int `json:"groupBindingsCreated,omitempty"`
	// +optional
	ScheduledSessionRBACReady *bool `json:"scheduledSessionRBACReady,omitempty"`
	// +optional
	LimitRangeReady *bool `json:"limitRangeReady,omitempty"`
}

// ProjectSettings is the singleton per managed namespace, named "projectsettings".
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=ps,singular=projectsetting
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name == 'projectsettings'",message="metadata.name must be 'projectsettings' (singleton per namespace)"
type ProjectSettings struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec ProjectSettingsSpec `json:"spec,omitempty"`
	// +optional
	Status ProjectSettingsStatus `json:"status,omitempty"`
}

// ProjectSettingsList is a list of ProjectSettings.
// +kubebuilder:object:root=true
type ProjectSettingsList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProjectSettings `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ProjectSettings{}, &ProjectSettingsList{})
}
