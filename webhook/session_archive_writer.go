package webhook

import (
	"context"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/klog/v2"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// archivedByOther is the archive writer rule (I4): only the operator's identity
// may add the archived label to a session. The operator stops watching archived
// sessions, so a label added by anyone else would hide a running session from
// it: its stop request would go unseen and its pod run on.
//
// Only an UPDATE of the main resource can add it: the API server resets labels
// written through the status subresource, and on CREATE the archive rule removes
// the label anyway (a new session is not terminal). A label that was already
// there, or is being removed, is anyone's to keep or remove.
func archivedByOther(ctx context.Context, req *sessionRequest, archivers identities) (admission.Response, bool) {
	if req.Operation != admissionv1.Update || req.SubResource != "" || req.Object == nil || req.OldObject == nil {
		return admission.Response{}, false
	}
	if _, skip := otherKind(&req.AdmissionRequest, sessionGroupKind); skip {
		return admission.Response{}, false
	}
	value, adds := req.Object.Metadata.Labels[v1alpha1.LabelArchived]
	if _, had := req.OldObject.Metadata.Labels[v1alpha1.LabelArchived]; !adds || had {
		return admission.Response{}, false
	}
	user := req.UserInfo.Username
	if archivers.allows(user) {
		return admission.Response{}, false
	}
	denialsTotal.WithLabelValues(reasonArchivedByOther).Inc()
	name := req.Object.Metadata.displayName()
	logf.FromContext(ctx).Info("Denied session", "requestID", req.UID, "agenticSession", klog.KRef(req.Namespace, name),
		"reason", reasonArchivedByOther, "user", user)
	return invalid(sessionGroupKind, name, field.ErrorList{field.Forbidden(labelsPath.Key(v1alpha1.LabelArchived), fmt.Sprintf(
		"label %q (value %q) may be added only by the operator (%s); the request came from %q. To stop a session, annotate it %s=%s",
		v1alpha1.LabelArchived, value, archivers, user, v1alpha1.AnnotationDesiredPhase, v1alpha1.DesiredStopped))}), true
}
