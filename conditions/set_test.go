package conditions

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func cond(typ string, status metav1.ConditionStatus, reason string, at time.Time) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, LastTransitionTime: metav1.NewTime(at)}
}

func TestSet(t *testing.T) {
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	t3 := t2.Add(time.Hour)
	cases := []struct {
		name    string
		before  []metav1.Condition
		set     metav1.Condition
		want    []metav1.Condition
		changed bool
	}{
		{
			name:    "appends a new type",
			before:  []metav1.Condition{cond("Ready", "True", "Ok", t1)},
			set:     cond("PodCreated", "True", "Created", t2),
			want:    []metav1.Condition{cond("Ready", "True", "Ok", t1), cond("PodCreated", "True", "Created", t2)},
			changed: true,
		},
		{
			name:    "same status keeps the transition time but takes the reason",
			before:  []metav1.Condition{cond("Ready", "True", "Ok", t1)},
			set:     cond("Ready", "True", "StillOk", t3),
			want:    []metav1.Condition{cond("Ready", "True", "StillOk", t1)},
			changed: true,
		},
		{
			name:    "a changed status moves the transition time",
			before:  []metav1.Condition{cond("Ready", "True", "Ok", t1)},
			set:     cond("Ready", "False", "Broken", t3),
			want:    []metav1.Condition{cond("Ready", "False", "Broken", t3)},
			changed: true,
		},
		{
			name:    "an identical write changes nothing",
			before:  []metav1.Condition{cond("Ready", "True", "Ok", t1)},
			set:     cond("Ready", "True", "Ok", t3),
			want:    []metav1.Condition{cond("Ready", "True", "Ok", t1)},
			changed: false,
		},
		{
			name:    "matches another spelling and takes the new one",
			before:  []metav1.Condition{cond("ready", "True", "Ok", t1)},
			set:     cond("Ready", "True", "Ok", t3),
			want:    []metav1.Condition{cond("Ready", "True", "Ok", t1)},
			changed: true,
		},
		{
			name: "case-variant duplicates collapse to the newest at the first position",
			before: []metav1.Condition{
				cond("READY", "False", "Old", t1), cond("PodCreated", "True", "Created", t1),
				cond("ready", "True", "Newest", t2), cond("Ready", "True", "Tie", t1),
			},
			set:  cond("Ready", "True", "Newest", t3),
			want: []metav1.Condition{cond("Ready", "True", "Newest", t2), cond("PodCreated", "True", "Created", t1)},
			// the set itself changes nothing, the collapse does
			changed: true,
		},
		{
			name:    "exact duplicates collapse too, a tie going to the later entry",
			before:  []metav1.Condition{cond("Ready", "True", "First", t1), cond("Ready", "True", "Second", t1)},
			set:     cond("Ready", "True", "Second", t3),
			want:    []metav1.Condition{cond("Ready", "True", "Second", t1)},
			changed: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conds := tc.before
			changed := Set(&conds, tc.set)
			assert.Equal(t, tc.changed, changed)
			assert.Equal(t, tc.want, conds)
		})
	}
}

func TestSetFillsTimeAndCapsMessage(t *testing.T) {
	var conds []metav1.Condition
	before := time.Now().Add(-time.Second)
	require.True(t, Set(&conds, metav1.Condition{Type: "Ready", Status: "True", Reason: "Ok", Message: strings.Repeat("m", MaxMessageBytes+10)}))
	require.Len(t, conds, 1)
	assert.Len(t, conds[0].Message, MaxMessageBytes)
	assert.True(t, conds[0].LastTransitionTime.After(before), "a zero time is filled with now")
}

func TestSetNil(t *testing.T) {
	assert.False(t, Set(nil, cond("Ready", "True", "Ok", time.Now())))
}
