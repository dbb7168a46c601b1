package webhook

import (
	"errors"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

const (
	kindPod     = "Pod"
	kindSession = "AgenticSession"
)

// runnerLabelKeys are the keys of v1alpha1.RunnerLabels, in the order patches and
// messages list them.
var runnerLabelKeys = []string{v1alpha1.LabelRunner, v1alpha1.LabelSession, v1alpha1.LabelApp}

// claimLabelKeys are the runner labels that claim a session: a pod carrying one
// must be controlled by an AgenticSession (I2).
var claimLabelKeys = []string{v1alpha1.LabelRunner, v1alpha1.LabelSession}

var podGroupKind = schema.GroupKind{Kind: kindPod}

// errNoPod answers a pod review whose object is absent or null.
var errNoPod = errors.New("the request carries no pod")

// podView is the part of a Pod the handlers read, decoded with the review
// (review.go). The rest of the pod is skipped, and the pod is never re-encoded:
// the mutator answers with a JSON patch of the labels alone.
type podView struct {
	Metadata struct {
		objectName      `json:",inline"`
		Labels          map[string]string       `json:"labels"`
		OwnerReferences []metav1.OwnerReference `json:"ownerReferences"`
	} `json:"metadata"`
}

// sessionOwner returns the name of the AgenticSession (any version of group
// vteam.ambient-code) that is the pod's controller, if one is.
func (p *podView) sessionOwner() (string, bool) {
	ref, ok := p.sessionController()
	return ref.Name, ok
}

// sessionController returns the pod's controller reference when it is an
// AgenticSession (any version of group vteam.ambient-code).
func (p *podView) sessionController() (metav1.OwnerReference, bool) {
	for _, ref := range p.Metadata.OwnerReferences {
		if ref.Controller == nil || !*ref.Controller {
			continue
		}
		// Only one controller reference is valid, so the first decides.
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil || gv.Group != v1alpha1.GroupVersion.Group || ref.Kind != kindSession {
			return metav1.OwnerReference{}, false
		}
		return ref, true
	}
	return metav1.OwnerReference{}, false
}

// objectName is how a pod or session view is named.
type objectName struct {
	Name         string `json:"name"`
	GenerateName string `json:"generateName"`
}

// displayName names the object in messages; on CREATE the name may not be
// generated yet.
func (n objectName) displayName() string {
	if n.Name == "" && n.GenerateName != "" {
		return n.GenerateName + "*"
	}
	return n.Name
}

// escapePointer escapes a map key for use in a JSON pointer (RFC 6901).
func escapePointer(key string) string {
	if !strings.ContainsAny(key, "~/") {
		return key
	}
	return pointerEscaper.Replace(key)
}

// pointerEscaper is built once: a Replacer builds its tables on first use, which
// per call was an allocation of a few hundred bytes for every label key escaped.
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")
