package conditions

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Set upserts c into *conds with meta.SetStatusCondition semantics (reason,
// message and observedGeneration are replaced; lastTransitionTime moves only when
// the status changes, to c's time or else now) except that an existing entry
// matches case-insensitively. Case variants of c's type collapse first to their
// newest entry, as Collapse would keep it, which then takes c's spelling. The
// message is capped like Collapse caps it. It reports whether *conds changed.
func Set(conds *[]metav1.Condition, c metav1.Condition) bool {
	if conds == nil {
		return false
	}
	c.Message, _ = TruncateMessage(c.Message)
	changed := collapseType(conds, c.Type)
	return meta.SetStatusCondition(conds, c) || changed
}

// collapseType leaves at most one entry of typ's case-insensitive type in *conds:
// the newest (a tie goes to the later entry), at the first entry's position and
// spelled typ, so that meta.SetStatusCondition's exact match finds it.
func collapseType(conds *[]metav1.Condition, typ string) bool {
	first, survivor, n := -1, -1, 0
	for i := range *conds {
		if !SameType((*conds)[i].Type, typ) {
			continue
		}
		n++
		if first < 0 {
			first = i
		}
		if survivor < 0 || !(*conds)[i].LastTransitionTime.Before(&(*conds)[survivor].LastTransitionTime) {
			survivor = i
		}
	}
	if first < 0 {
		return false
	}
	changed := n > 1 || (*conds)[survivor].Type != typ
	(*conds)[first] = (*conds)[survivor]
	(*conds)[first].Type = typ
	if n > 1 {
		kept := make([]metav1.Condition, 0, len(*conds)-n+1)
		for i, e := range *conds {
			if i == first || !SameType(e.Type, typ) {
				kept = append(kept, e)
			}
		}
		*conds = kept
	}
	return changed
}
