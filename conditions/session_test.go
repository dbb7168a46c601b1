package conditions

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func sessionCond(typ string, status metav1.ConditionStatus, reason string, at *time.Time) v1alpha1.Condition {
	c := v1alpha1.Condition{Type: typ, Status: status, Reason: reason}
	if at != nil {
		t := metav1.NewTime(*at)
		c.LastTransitionTime = &t
	}
	return c
}

func TestSetSession(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t1 := t0.Add(time.Minute)
	t2 := t0.Add(2 * time.Minute)

	tests := []struct {
		name    string
		in      []v1alpha1.Condition
		set     v1alpha1.Condition
		want    []v1alpha1.Condition
		changed bool
	}{
		{
			name:    "appends a new type",
			in:      []v1alpha1.Condition{sessionCond("Ready", "False", "Pending", &t0)},
			set:     sessionCond("PodCreated", "True", "Created", &t1),
			want:    []v1alpha1.Condition{sessionCond("Ready", "False", "Pending", &t0), sessionCond("PodCreated", "True", "Created", &t1)},
			changed: true,
		},
		{
			name:    "keeps the transition time when the status is unchanged",
			in:      []v1alpha1.Condition{sessionCond("Ready", "True", "Running", &t0)},
			set:     sessionCond("Ready", "True", "StillRunning", &t2),
			want:    []v1alpha1.Condition{sessionCond("Ready", "True", "StillRunning", &t0)},
			changed: true,
		},
		{
			name:    "reports no change for an identical entry",
			in:      []v1alpha1.Condition{sessionCond("Ready", "True", "Running", &t0)},
			set:     sessionCond("Ready", "True", "Running", &t2),
			want:    []v1alpha1.Condition{sessionCond("Ready", "True", "Running", &t0)},
			changed: false,
		},
		{
			name: "collapses case variants into one entry with the new spelling",
			in: []v1alpha1.Condition{
				sessionCond("ready", "False", "Old", &t0),
				sessionCond("PodCreated", "True", "Created", &t0),
				sessionCond("READY", "False", "Newer", &t1),
			},
			set: sessionCond("Ready", "True", "Running", &t2),
			want: []v1alpha1.Condition{
				sessionCond("Ready", "True", "Running", &t2),
				sessionCond("PodCreated", "True", "Created", &t0),
			},
			changed: true,
		},
		{
			name:    "leaves untimed entries of other types untimed",
			in:      []v1alpha1.Condition{sessionCond("SecretsReady", "True", "", nil)},
			set:     sessionCond("Ready", "True", "Running", &t1),
			want:    []v1alpha1.Condition{sessionCond("SecretsReady", "True", "", nil), sessionCond("Ready", "True", "Running", &t1)},
			changed: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := append([]v1alpha1.Condition(nil), tc.in...)
			assert.Equal(t, tc.changed, SetSession(&got, tc.set))
			require.Len(t, got, len(tc.want))
			for i := range tc.want {
				assert.Equal(t, tc.want[i].Type, got[i].Type, "entry %d", i)
				assert.Equal(t, tc.want[i].Status, got[i].Status, "entry %d", i)
				assert.Equal(t, tc.want[i].Reason, got[i].Reason, "entry %d", i)
				if tc.want[i].LastTransitionTime == nil {
					assert.Nil(t, got[i].LastTransitionTime, "entry %d", i)
				} else {
					require.NotNil(t, got[i].LastTransitionTime, "entry %d", i)
					assert.True(t, tc.want[i].LastTransitionTime.Equal(got[i].LastTransitionTime), "entry %d time", i)
				}
			}
		})
	}
}

func TestFindSession(t *testing.T) {
	conds := []v1alpha1.Condition{sessionCond("PodCreated", "True", "Created", nil)}
	require.NotNil(t, FindSession(conds, "podcreated"))
	assert.Equal(t, "Created", FindSession(conds, "podcreated").Reason)
	assert.Nil(t, FindSession(conds, "Ready"))
	assert.False(t, SetSession(nil, sessionCond("Ready", "True", "", nil)))
}
