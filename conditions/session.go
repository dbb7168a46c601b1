package conditions

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// SetSession is Set for an AgenticSession's conditions, whose entry type is looser
// than metav1.Condition (the time is optional on the wire). The list goes through
// metav1.Condition and back so that both kinds share one upsert; a nil time maps to
// the zero time and back to nil, so entries Set leaves alone come back unchanged.
func SetSession(conds *[]v1alpha1.Condition, c v1alpha1.Condition) bool {
	if conds == nil {
		return false
	}
	typed := make([]metav1.Condition, len(*conds))
	for i, e := range *conds {
		typed[i] = toMeta(e)
	}
	if !Set(&typed, toMeta(c)) {
		return false
	}
	out := make([]v1alpha1.Condition, len(typed))
	for i, e := range typed {
		out[i] = fromMeta(e)
	}
	*conds = out
	return true
}

// FindSession returns the entry of typ (compared case-insensitively), or nil.
func FindSession(conds []v1alpha1.Condition, typ string) *v1alpha1.Condition {
	for i := range conds {
		if SameType(conds[i].Type, typ) {
			return &conds[i]
		}
	}
	return nil
}

func toMeta(c v1alpha1.Condition) metav1.Condition {
	m := metav1.Condition{
		Type:               c.Type,
		Status:             c.Status,
		ObservedGeneration: c.ObservedGeneration,
		Reason:             c.Reason,
		Message:            c.Message,
	}
	if c.LastTransitionTime != nil {
		m.LastTransitionTime = *c.LastTransitionTime
	}
	return m
}

func fromMeta(m metav1.Condition) v1alpha1.Condition {
	c := v1alpha1.Condition{
		Type:               m.Type,
		Status:             m.Status,
		ObservedGeneration: m.ObservedGeneration,
		Reason:             m.Reason,
		Message:            m.Message,
	}
	if !m.LastTransitionTime.IsZero() {
		t := m.LastTransitionTime
		c.LastTransitionTime = &t
	}
	return c
}
