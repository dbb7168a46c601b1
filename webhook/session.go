package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/klog/v2"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	sigsjson "sigs.k8s.io/json"

	"github.com/ambient-code/agentic-operator/conditions"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

var (
	sessionGroupKind = v1alpha1.GroupVersion.WithKind(kindSession).GroupKind()
	conditionsPath   = field.NewPath("status", "conditions")
)

// sessionMutator collapses status.conditions of AgenticSessions to one entry per
// type (I3) on CREATE and UPDATE of the resource and of its status subresource,
// and removes the archived label where a session must come back (I4).
type sessionMutator struct {
	now func() time.Time
	// archivers may add the archived label (the operator); nil means anyone.
	archivers identities
}

// sessionView is the part of a session the rules read, decoded with the review
// (review.go). Spec is skipped, and nothing is re-encoded but the conditions
// list, so no field this build does not know can be lost, and the conditions
// stay maps that keep their unknown keys. Status is kept raw and any JSON value is
// accepted, so a status that is not an object reaches the API server's schema
// validation instead of failing here (decodeConditions reads it).
type sessionView struct {
	Metadata struct {
		objectName  `json:",inline"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Status jsontext.Value `json:"status"`
}

// sessionOldView is what the rules read of the stored session: its labels, to
// tell which write adds the archived label.
type sessionOldView struct {
	Metadata struct {
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
}

type sessionRequest = request[sessionView, sessionOldView]

var errNoSession = errors.New("the request carries no AgenticSession")

func (m sessionMutator) handle(ctx context.Context, req *sessionRequest) admission.Response {
	if resp, denied := archivedByOther(ctx, req, m.archivers); denied { // session_archive_writer.go
		return resp
	}
	return restoreArchived(ctx, req, m.collapse(ctx, req)) // archive rule: session_archive.go
}

// collapse is the conditions rule (I3).
func (m sessionMutator) collapse(ctx context.Context, req *sessionRequest) admission.Response {
	if resp, skip := otherKind(&req.AdmissionRequest, sessionGroupKind); skip {
		return resp
	}
	if resp, skip := otherOperation(&req.AdmissionRequest, admissionv1.Create, admissionv1.Update); skip {
		return resp
	}
	if req.SubResource != "" && req.SubResource != "status" {
		return admission.Allowed(fmt.Sprintf("subresource %q: nothing to do", req.SubResource))
	}
	session := req.Object
	if session == nil {
		return admission.Errored(http.StatusBadRequest, errNoSession)
	}
	if tooManyConditions(session.Status) {
		name := session.Metadata.displayName()
		denialsTotal.WithLabelValues(reasonTooManyConditions).Inc()
		logf.FromContext(ctx).Info("Denied session", "requestID", req.UID, "agenticSession", klog.KRef(req.Namespace, name),
			"reason", reasonTooManyConditions)
		return invalid(sessionGroupKind, name, field.ErrorList{field.TooMany(conditionsPath, -1, maxConditionEntries)})
	}
	conds, err := decodeConditions(session.Status)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	if conds == nil {
		// Absent, null, or not a list: the last is for schema validation to reject.
		return admission.Allowed("no status.conditions list")
	}
	out, stats := conditions.Collapse(conds, m.now())
	name := session.Metadata.displayName()
	if stats.Types > conditions.MaxTypes {
		denialsTotal.WithLabelValues(reasonTooManyConditionTypes).Inc()
		logf.FromContext(ctx).Info("Denied session", "requestID", req.UID, "agenticSession", klog.KRef(req.Namespace, name),
			"reason", reasonTooManyConditionTypes, "types", stats.Types)
		return invalid(sessionGroupKind, name, field.ErrorList{field.Forbidden(conditionsPath, fmt.Sprintf(
			"%d distinct condition types, at most %d are allowed (types compared case-insensitively)",
			stats.Types, conditions.MaxTypes))})
	}
	if !stats.Changed() {
		return admission.Allowed("conditions already canonical")
	}
	patchesTotal.WithLabelValues(kindSession).Inc()
	conditionsRemovedTotal.Add(float64(stats.Removed))
	if log := logf.FromContext(ctx).V(1); log.Enabled() {
		log.Info("Collapsing session conditions", "requestID", req.UID, "agenticSession", klog.KRef(req.Namespace, name),
			"removed", stats.Removed, "truncated", stats.Truncated, "filled", stats.Filled, "types", stats.Types)
	}
	// The list exists (it was decoded), so replace is the one operation needed.
	return admission.Patched("conditions collapsed", jsonpatch.NewOperation("replace", "/status/conditions", out))
}

// decodeConditions returns status.conditions from the raw status, or nil when
// there is no list to collapse. The status is decoded apart from the review so
// that integers stay int64 (an observedGeneration survives re-encoding exactly).
func decodeConditions(raw jsontext.Value) ([]any, error) {
	if raw.Kind() != '{' {
		return nil, nil // absent, null, or not an object: for schema validation to judge
	}
	var status struct {
		Conditions any `json:"conditions"`
	}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(raw, &status); err != nil {
		return nil, fmt.Errorf("decoding the AgenticSession status: %w", err)
	}
	conds, _ := status.Conditions.([]any)
	return conds, nil
}
