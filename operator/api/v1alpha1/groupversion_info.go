// Package v1alpha1 holds the vteam.ambient-code/v1alpha1 API types: AgenticSession and
// ProjectSettings. Their schema is the platform's wire contract
// (reference/*.upstream.yaml): every object the platform's CRDs accept, ours accept.
// +kubebuilder:object:generate=true
// +groupName=vteam.ambient-code
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of these types.
	GroupVersion = schema.GroupVersion{Group: "vteam.ambient-code", Version: "v1alpha1"}

	// SchemeBuilder registers the types with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// Kind names, for owner references and admission checks.
const (
	KindAgenticSession  = "AgenticSession"
	KindProjectSettings = "ProjectSettings"
)
