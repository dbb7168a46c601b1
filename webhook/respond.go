package webhook

import (
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// invalid denies with the 422 Invalid status the API server's own validation
// uses: the message names the object and each field with its rule and value, and
// kubectl shows it after "admission webhook ... denied the request:".
func invalid(gk schema.GroupKind, name string, errs field.ErrorList) admission.Response {
	status := apierrors.NewInvalid(gk, name, errs).Status()
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: &status}}
}

// otherKind allows, with a reason, an object an endpoint is not meant for: a
// registration that sends more than it should must not block unrelated writes.
func otherKind(req *admissionv1.AdmissionRequest, want schema.GroupKind) (admission.Response, bool) {
	if req.Kind.Group == want.Group && req.Kind.Kind == want.Kind {
		return admission.Response{}, false
	}
	gvk := schema.GroupVersionKind(req.Kind)
	return admission.Allowed(fmt.Sprintf("not a %s but %s: nothing to do", want.String(), gvk.String())), true
}

// otherOperation allows an operation a handler does not act on.
func otherOperation(req *admissionv1.AdmissionRequest, ops ...admissionv1.Operation) (admission.Response, bool) {
	for _, op := range ops {
		if req.Operation == op {
			return admission.Response{}, false
		}
	}
	return admission.Allowed(fmt.Sprintf("operation %s: nothing to do", req.Operation)), true
}
