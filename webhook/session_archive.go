package webhook

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/klog/v2"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// The archive rule: a session with a restart request is never archived. The
// operator labels terminal sessions ambient-code.io/archived and stops caching
// them, so a restart request on an archived session would go unseen. On the main resource this rule removes the
// label from the object being stored when:
//   - UPDATE: the object asks for a restart (desired-phase=Running), whether this
//     write set the annotation or it was already there. An archived session with
//     a pending request is what a write made while the webhook was down leaves
//     behind (it fails open); any later write repairs it, as the operator's
//     archive watch does at once. Other desired-phase values (Stopped) change nothing:
//     a terminal session has nothing to stop.
//   - CREATE: always. A new session has no status yet (the API server drops it),
//     so it is not terminal, and an archived label would hide it from the
//     operator until someone asked for a restart.
//
// Status subresource writes are left alone: the API server ignores label changes
// made through them, and the operator reads restart requests from annotations.
// The removal is added to whatever the conditions rule answered (one response,
// one patch); a denial or an error of that rule stands as it is.

var archiveRemoveOp = jsonpatch.NewOperation("remove", "/metadata/labels/"+escapePointer(v1alpha1.LabelArchived), nil)

var unarchivedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "ambient",
	Subsystem: "webhook",
	Name:      "sessions_unarchived_total",
	Help:      "AgenticSession writes from which the archived label was removed, by operation.",
}, []string{"operation"})

func init() {
	metrics.Registry.MustRegister(unarchivedTotal)
	for _, op := range []admissionv1.Operation{admissionv1.Create, admissionv1.Update} {
		unarchivedTotal.WithLabelValues(string(op))
	}
}

// restoreArchived applies the archive rule on top of resp, the conditions rule's
// answer to req.
func restoreArchived(ctx context.Context, req *sessionRequest, resp admission.Response) admission.Response {
	if !resp.Allowed || req.SubResource != "" || req.Object == nil {
		return resp
	}
	if _, archived := req.Object.Metadata.Labels[v1alpha1.LabelArchived]; !archived {
		return resp
	}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return resp
	}
	if _, skip := otherKind(&req.AdmissionRequest, sessionGroupKind); skip {
		return resp
	}
	meta := &req.Object.Metadata
	why := "a new session is not terminal"
	if req.Operation == admissionv1.Update {
		if !v1alpha1.RestartRequested(meta.Annotations) {
			return resp
		}
		why = "restart requested"
	}
	if len(resp.Patches) == 0 {
		patchesTotal.WithLabelValues(kindSession).Inc()
	}
	unarchivedTotal.WithLabelValues(string(req.Operation)).Inc()
	logf.FromContext(ctx).Info("Removing the archived label", "requestID", req.UID, "agenticSession", klog.KRef(req.Namespace, meta.Name),
		"reason", why, "operation", req.Operation)
	resp.Patches = append(resp.Patches, archiveRemoveOp)
	msg := "archived label removed: " + why
	if resp.Result != nil && resp.Result.Message != "" {
		msg = resp.Result.Message + "; " + msg
	}
	out := admission.Patched(msg, resp.Patches...)
	out.Warnings = resp.Warnings
	return out
}
