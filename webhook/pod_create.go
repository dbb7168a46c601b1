package webhook

import (
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

var (
	namePath            = field.NewPath("metadata", "name")
	ownerReferencesPath = field.NewPath("metadata", "ownerReferences")
)

// creationErrors is the runner creation rule (I5): a pod created with an
// AgenticSession controller reference must come from one of the runner creators
// and be named <session>-runner. Otherwise anyone who may create pods could put
// one behind another session's Service and receive its traffic and token. Both
// pod endpoints apply it, so the mutator never labels a pod the validator refuses.
func creationErrors(req *admissionv1.AdmissionRequest, pod *podView, creators identities) field.ErrorList {
	if req.Operation != admissionv1.Create {
		return nil
	}
	ref, ok := pod.sessionController()
	if !ok {
		return nil
	}
	var errs field.ErrorList
	if user := req.UserInfo.Username; !creators.allows(user) {
		errs = append(errs, field.Forbidden(ownerReferencesPath, fmt.Sprintf(
			"only the runner creators (%s) may create a pod controlled by AgenticSession %q; the request came from %q",
			creators, ref.Name, user)))
	}
	if want := v1alpha1.RunnerPodName(ref.Name); pod.Metadata.Name != want {
		got := pod.Metadata.Name
		if got == "" && pod.Metadata.GenerateName != "" {
			got = "generateName " + pod.Metadata.GenerateName
		}
		errs = append(errs, field.Invalid(namePath, got, fmt.Sprintf(
			"a pod controlled by AgenticSession %q must be named %q", ref.Name, want)))
	}
	return errs
}
