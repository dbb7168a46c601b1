package webhook

import (
	"context"
	"net/http"

	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/klog/v2"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// mutate gives every runner pod its three runner labels on CREATE (I1). A pod
// the creation rule refuses is denied here already, so no forged pod is ever
// labelled, whatever the order of webhooks.
func (p podRules) mutate(ctx context.Context, req *request[podView, unread]) admission.Response {
	if resp, skip := otherKind(&req.AdmissionRequest, podGroupKind); skip {
		return resp
	}
	// Labels are fixed at birth; the validator keeps them from changing later.
	if resp, skip := otherOperation(&req.AdmissionRequest, admissionv1.Create); skip {
		return resp
	}
	pod := req.Object
	if pod == nil {
		return admission.Errored(http.StatusBadRequest, errNoPod)
	}
	session, ok := pod.sessionOwner()
	if !ok {
		return admission.Allowed("not a runner pod: no AgenticSession controller ownerReference")
	}
	if errs := creationErrors(&req.AdmissionRequest, pod, p.creators); len(errs) > 0 {
		denialsTotal.WithLabelValues(reasonNotRunnerCreator).Inc()
		logf.FromContext(ctx).Info("Denied pod", "requestID", req.UID, "pod", klog.KRef(req.Namespace, pod.Metadata.displayName()),
			"operation", req.Operation, "user", req.UserInfo.Username, "reason", errs.ToAggregate().Error())
		return invalid(podGroupKind, pod.Metadata.displayName(), errs)
	}
	ops := runnerLabelPatch(pod.Metadata.Labels, session)
	if len(ops) == 0 {
		return admission.Allowed("runner labels already set")
	}
	patchesTotal.WithLabelValues(kindPod).Inc()
	if log := logf.FromContext(ctx).V(1); log.Enabled() {
		log.Info("Setting runner pod labels", "requestID", req.UID,
			"pod", klog.KRef(req.Namespace, pod.Metadata.displayName()), "session", session, "operations", len(ops))
	}
	return admission.Patched("runner labels set", ops...)
}

// runnerLabelPatch returns the fewest JSON patch operations that give labels the
// runner labels of session: one add of the whole map when the pod has no labels
// (absent or null), else one add or replace per missing or wrong key.
func runnerLabelPatch(labels map[string]string, session string) []jsonpatch.JsonPatchOperation {
	want := v1alpha1.RunnerLabels(session)
	if labels == nil {
		return []jsonpatch.JsonPatchOperation{jsonpatch.NewOperation("add", "/metadata/labels", want)}
	}
	var ops []jsonpatch.JsonPatchOperation
	for _, key := range runnerLabelKeys {
		have, ok := labels[key]
		switch {
		case !ok:
			ops = append(ops, jsonpatch.NewOperation("add", "/metadata/labels/"+escapePointer(key), want[key]))
		case have != want[key]:
			ops = append(ops, jsonpatch.NewOperation("replace", "/metadata/labels/"+escapePointer(key), want[key]))
		}
	}
	return ops
}

// mutatePod is the mutator with no runner creators configured.
func mutatePod(ctx context.Context, req *request[podView, unread]) admission.Response {
	return podRules{}.mutate(ctx, req)
}
