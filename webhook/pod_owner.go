package webhook

import (
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ownerChangeErrors is the re-parenting rule (I2): an UPDATE (of pods or
// pods/status) cannot add, change or remove a pod's AgenticSession controller
// reference. Adding one would make a plain pod a runner pod without the runner
// creators; changing one would leave a pod controlled by one session and
// labelled for another; removing one would free the runner labels.
//
// The exception is the garbage collector orphaning the pod. It is told by two
// things together: the request's userInfo.username is the collector's
// ServiceAccount (only kube-controller-manager holds its token), and the
// update's ownerReferences are the old ones with some removed and none added or
// edited. Labels are not touched by orphaning, and the label rules still apply.
func ownerChangeErrors(req *admissionv1.AdmissionRequest, pod, old *podView) field.ErrorList {
	if req.Operation != admissionv1.Update || old == nil {
		return nil
	}
	was, had := old.sessionController()
	now, has := pod.sessionController()
	switch {
	case !had && !has:
		return nil
	case had && has && sameOwner(was, now):
		return nil
	case had && !has:
		if req.UserInfo.Username == garbageCollector && onlyRemoved(old.Metadata.OwnerReferences, pod.Metadata.OwnerReferences) {
			return nil
		}
		return field.ErrorList{field.Forbidden(ownerReferencesPath, fmt.Sprintf(
			"the AgenticSession controller reference of a pod cannot be removed (was %s, request from %q); only the garbage collector (%s) may, by removing ownerReferences alone",
			describeOwner(was), req.UserInfo.Username, garbageCollector))}
	case !had:
		return field.ErrorList{field.Forbidden(ownerReferencesPath, fmt.Sprintf(
			"an AgenticSession controller reference cannot be added to an existing pod (now %s); runner pods are created with it by the runner creators",
			describeOwner(now)))}
	default:
		return field.ErrorList{field.Forbidden(ownerReferencesPath, fmt.Sprintf(
			"the AgenticSession controller reference of a pod cannot be changed (was %s, now %s); only labels other than the runner labels may change",
			describeOwner(was), describeOwner(now)))}
	}
}

// sameOwner compares the identity of two session controller references. The
// version in apiVersion may differ: it names the same object in another version.
func sameOwner(a, b metav1.OwnerReference) bool {
	return a.Name == b.Name && a.UID == b.UID && a.Kind == b.Kind
}

// onlyRemoved reports whether now is old with zero or more entries removed and
// the rest unchanged and in order.
func onlyRemoved(old, now []metav1.OwnerReference) bool {
	i := 0
	for _, ref := range now {
		for i < len(old) && !equalRef(old[i], ref) {
			i++
		}
		if i == len(old) {
			return false
		}
		i++
	}
	return true
}

func equalRef(a, b metav1.OwnerReference) bool {
	return a.APIVersion == b.APIVersion && a.Kind == b.Kind && a.Name == b.Name && a.UID == b.UID &&
		boolValue(a.Controller) == boolValue(b.Controller) && boolValue(a.BlockOwnerDeletion) == boolValue(b.BlockOwnerDeletion)
}

func boolValue(b *bool) bool { return b != nil && *b }

func describeOwner(ref metav1.OwnerReference) string {
	return fmt.Sprintf("AgenticSession %q uid %q", ref.Name, ref.UID)
}
