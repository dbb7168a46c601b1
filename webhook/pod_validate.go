package webhook

import (
	"context"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/klog/v2"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

var labelsPath = field.NewPath("metadata", "labels")

// validatePod keeps runner labels for runner pods and fixed once set (I2).
func validatePod(ctx context.Context, req *request[podView, podView]) admission.Response {
	if resp, skip := otherKind(&req.AdmissionRequest, podGroupKind); skip {
		return resp
	}
	if resp, skip := otherOperation(&req.AdmissionRequest, admissionv1.Create, admissionv1.Update); skip {
		return resp
	}
	pod, old := req.Object, req.OldObject
	if pod == nil {
		return admission.Errored(http.StatusBadRequest, errNoPod)
	}
	if req.Operation != admissionv1.Update {
		old = nil // only an UPDATE has a previous state to compare with
	} else if old == nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("oldObject: %w", errNoPod))
	}
	spoofed := claimsWithoutOwner(pod, old)
	changed := changedRunnerLabels(pod, old)
	if len(spoofed) == 0 && len(changed) == 0 {
		return admission.Allowed("runner labels match ownership")
	}
	if len(spoofed) > 0 {
		denialsTotal.WithLabelValues(reasonRunnerLabelWithoutOwner).Inc()
	}
	if len(changed) > 0 {
		denialsTotal.WithLabelValues(reasonRunnerLabelChanged).Inc()
	}
	errs := append(spoofed, changed...)
	logf.FromContext(ctx).Info("Denied pod", "pod", klog.KRef(req.Namespace, pod.Metadata.displayName()),
		"operation", req.Operation, "reason", errs.ToAggregate().Error())
	return invalid(podGroupKind, pod.Metadata.displayName(), errs)
}

// claimsWithoutOwner reports the session-claiming runner labels of a pod that no
// AgenticSession controls. On UPDATE a claim the old object already made with the
// same value is let through: denying it would block the kubelet's and the garbage
// collector's writes to a pod admitted before this rule, without removing the label.
func claimsWithoutOwner(pod, old *podView) field.ErrorList {
	if _, ok := pod.sessionOwner(); ok {
		return nil
	}
	var errs field.ErrorList
	for _, key := range claimLabelKeys {
		value, ok := pod.Metadata.Labels[key]
		if !ok {
			continue
		}
		if old != nil {
			if was, had := old.Metadata.Labels[key]; had && was == value {
				continue
			}
		}
		errs = append(errs, field.Forbidden(labelsPath.Key(key), fmt.Sprintf(
			"label %q (value %q) is reserved for runner pods: the pod has no controller ownerReference to an AgenticSession (vteam.ambient-code)",
			key, value)))
	}
	return errs
}

// changedRunnerLabels reports runner labels that an UPDATE of a runner pod changes
// or removes. A label the old object lacked may still be added.
func changedRunnerLabels(pod, old *podView) field.ErrorList {
	if old == nil {
		return nil
	}
	if _, ok := old.sessionOwner(); !ok {
		return nil
	}
	var errs field.ErrorList
	for _, key := range runnerLabelKeys {
		was, had := old.Metadata.Labels[key]
		if !had {
			continue
		}
		switch now, has := pod.Metadata.Labels[key]; {
		case !has:
			errs = append(errs, field.Forbidden(labelsPath.Key(key), fmt.Sprintf(
				"label %q of a runner pod cannot be removed once set (was %q)", key, was)))
		case now != was:
			errs = append(errs, field.Forbidden(labelsPath.Key(key), fmt.Sprintf(
				"label %q of a runner pod cannot be changed once set (was %q, now %q)", key, was, now)))
		}
	}
	return errs
}
