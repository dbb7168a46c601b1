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

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

var labelsPath = field.NewPath("metadata", "labels")

// podRules are the pod endpoints' rules, with the identities allowed to create
// runner pods.
type podRules struct {
	creators identities
}

// validate keeps runner pods created only by the runner creators, their
// controller reference fixed, and their runner labels equal to their owner's
// (I1, I2, I5), on CREATE and UPDATE of pods and pods/status.
func (p podRules) validate(ctx context.Context, req *request[podView, podView]) admission.Response {
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
	checks := []struct {
		reason string
		errs   field.ErrorList
	}{
		{reasonNotRunnerCreator, creationErrors(&req.AdmissionRequest, pod, p.creators)},
		{reasonControllerChanged, ownerChangeErrors(&req.AdmissionRequest, pod, old)},
		{reasonRunnerLabelWithoutOwner, claimsWithoutOwner(pod, old)},
		{reasonRunnerLabelValue, wrongRunnerLabels(req.Operation, pod, old)},
		{reasonRunnerLabelChanged, changedRunnerLabels(pod, old)},
	}
	var errs field.ErrorList
	for _, c := range checks {
		if len(c.errs) > 0 {
			denialsTotal.WithLabelValues(c.reason).Inc()
			errs = append(errs, c.errs...)
		}
	}
	if len(errs) == 0 {
		return admission.Allowed("runner labels match ownership")
	}
	logf.FromContext(ctx).Info("Denied pod", "requestID", req.UID, "pod", klog.KRef(req.Namespace, pod.Metadata.displayName()),
		"operation", req.Operation, "user", req.UserInfo.Username, "reason", errs.ToAggregate().Error())
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

// wrongRunnerLabels reports runner labels of a runner pod whose value is not the
// one its owner implies, and on CREATE the ones missing (the mutator adds them,
// so a CREATE without them reached the validator some other way). An UPDATE may
// add a missing label, but only with its expected value: a pod admitted before
// the webhook can be repaired, never mislabelled. Labels an old runner pod
// already had are changedRunnerLabels' to report, once.
func wrongRunnerLabels(op admissionv1.Operation, pod, old *podView) field.ErrorList {
	session, ok := pod.sessionOwner()
	if !ok {
		return nil
	}
	var before map[string]string
	if old != nil {
		if _, wasRunner := old.sessionOwner(); wasRunner {
			before = old.Metadata.Labels
		}
	}
	want := v1alpha1.RunnerLabels(session)
	var errs field.ErrorList
	for _, key := range runnerLabelKeys {
		if _, had := before[key]; had {
			continue
		}
		have, present := pod.Metadata.Labels[key]
		switch {
		case !present && op == admissionv1.Create:
			errs = append(errs, field.Required(labelsPath.Key(key), fmt.Sprintf(
				"a pod controlled by AgenticSession %q carries label %q=%q", session, key, want[key])))
		case present && have != want[key]:
			errs = append(errs, field.Invalid(labelsPath.Key(key), have, fmt.Sprintf(
				"label %q of a pod controlled by AgenticSession %q must be %q", key, session, want[key])))
		}
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

// validatePod is the validator with no runner creators configured.
func validatePod(ctx context.Context, req *request[podView, podView]) admission.Response {
	return podRules{}.validate(ctx, req)
}
