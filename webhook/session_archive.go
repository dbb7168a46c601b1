package webhook

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/klog/v2"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	sigsjson "sigs.k8s.io/json"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// The archive rule (issue 7, invariant I4). The operator labels terminal sessions
// ambient-code.io/archived and stops caching them, so a restart request on an
// archived session would go unseen. On the main resource this rule removes the
// label from the object being stored when:
//   - UPDATE: the object asks for a restart (desired-phase=Running), whether this
//     write set the annotation or it was already there. An archived session with
//     a pending request is what a write made while the webhook was down leaves
//     behind (it fails open); any later write repairs it instead of waiting for
//     the operator's sweep. Other desired-phase values (Stopped) change nothing:
//     a terminal session has nothing to stop.
//   - CREATE: always. A new session has no status yet (the API server drops it),
//     so it is not terminal, and an archived label would hide it from the
//     operator until someone asked for a restart.
//
// Status subresource writes are left alone: the API server ignores label changes
// made through them, and the operator reads restart requests from annotations.
// The removal is added to whatever the conditions rule answered (one response,
// one patch); a denial or an error of that rule stands as it is.

// archivedKey is the label's key as it appears in the JSON the API server sends
// (Go's encoder does not escape '/'): a byte search skips decoding for every
// session that is not archived, which is almost all writes.
var archivedKey = []byte(`"` + v1alpha1.LabelArchived + `"`)

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

// archiveView is the metadata the rule reads.
type archiveView struct {
	Metadata struct {
		Name        string            `json:"name"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
}

// restoreArchived applies the archive rule on top of resp, the conditions rule's
// answer to req.
func restoreArchived(ctx context.Context, req admission.Request, resp admission.Response) admission.Response {
	if !resp.Allowed || req.SubResource != "" || !bytes.Contains(req.Object.Raw, archivedKey) {
		return resp
	}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return resp
	}
	if _, skip := otherKind(req, sessionGroupKind); skip {
		return resp
	}
	var v archiveView
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(req.Object.Raw, &v); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decoding the AgenticSession metadata: %w", err))
	}
	if _, archived := v.Metadata.Labels[v1alpha1.LabelArchived]; !archived {
		return resp // the key was found elsewhere, e.g. in an annotation value
	}
	why := "a new session is not terminal"
	if req.Operation == admissionv1.Update {
		if v.Metadata.Annotations[v1alpha1.AnnotationDesiredPhase] != string(v1alpha1.PhaseRunning) {
			return resp
		}
		why = "restart requested"
	}
	if len(resp.Patches) == 0 {
		patchesTotal.WithLabelValues(kindSession).Inc()
	}
	unarchivedTotal.WithLabelValues(string(req.Operation)).Inc()
	logf.FromContext(ctx).Info("Removing the archived label", "agenticSession", klog.KRef(req.Namespace, v.Metadata.Name),
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
