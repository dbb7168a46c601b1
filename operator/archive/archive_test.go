package archive

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func TestCheck(t *testing.T) {
	now := metav1.Now()
	cases := []struct {
		name        string
		phase       v1alpha1.Phase
		labels      map[string]string
		annotations map[string]string
		deleting    bool
		want        Reason
	}{
		{"stopped", v1alpha1.PhaseStopped, nil, nil, false, Archivable},
		{"completed", v1alpha1.PhaseCompleted, nil, nil, false, Archivable},
		{"failed", v1alpha1.PhaseFailed, nil, nil, false, Archivable},
		{"stopped with a stop request left", v1alpha1.PhaseStopped, nil, map[string]string{v1alpha1.AnnotationDesiredPhase: "Stopped"}, false, Archivable},
		{"running", v1alpha1.PhaseRunning, nil, nil, false, NotTerminal},
		{"stopping", v1alpha1.PhaseStopping, nil, nil, false, NotTerminal},
		{"no phase yet", "", nil, nil, false, NotTerminal},
		{"restart pending (I4)", v1alpha1.PhaseStopped, nil, map[string]string{v1alpha1.AnnotationDesiredPhase: "Running"}, false, RestartPending},
		{"already archived", v1alpha1.PhaseStopped, map[string]string{v1alpha1.LabelArchived: "true"}, nil, false, AlreadyArchived},
		{"archived with any value", v1alpha1.PhaseStopped, map[string]string{v1alpha1.LabelArchived: "no"}, nil, false, AlreadyArchived},
		{"being deleted", v1alpha1.PhaseFailed, nil, nil, true, BeingDeleted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Labels: c.labels, Annotations: c.annotations}}
			s.Status.Phase = c.phase
			if c.deleting {
				s.DeletionTimestamp = &now
			}
			assert.Equal(t, c.want, Check(s))
		})
	}
}

// Every session is either in the operator's cache or within the archive watch's reach.
func TestSelectorsAreComplements(t *testing.T) {
	sets := []labels.Set{
		nil,
		{"team": "a"},
		{v1alpha1.LabelArchived: "true"},
		{v1alpha1.LabelArchived: ""},
		{v1alpha1.LabelArchived: "false", "team": "a"},
	}
	for _, set := range sets {
		inCache, swept := v1alpha1.NotArchivedSelector().Matches(set), v1alpha1.ArchivedSelector().Matches(set)
		assert.NotEqual(t, inCache, swept, "labels %v: exactly one of cache and archive watch", set)
		assert.Equal(t, v1alpha1.IsArchived(set), swept, "labels %v", set)
	}
	assert.Equal(t, "!ambient-code.io/archived", v1alpha1.NotArchivedSelector().String())
	assert.Equal(t, "ambient-code.io/archived", v1alpha1.ArchivedSelector().String())
}
