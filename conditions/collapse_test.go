package conditions

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sigsjson "sigs.k8s.io/json"
)

var now = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

const nowText = "2026-03-14T15:09:26Z"

// list decodes a JSON array the way the webhook does (integers stay int64).
func list(t *testing.T, s string) []any {
	t.Helper()
	var out []any
	require.NoError(t, sigsjson.UnmarshalCaseSensitivePreserveInts([]byte(s), &out))
	return out
}

func TestCollapse(t *testing.T) {
	long := strings.Repeat("x", MaxMessageBytes-1) + "é" // 'é' straddles the cap
	cases := []struct {
		name string
		in   string
		want string
		st   Stats
	}{
		{name: "empty list stays empty", in: `[]`, want: `[]`},
		{
			name: "distinct types with times are already canonical",
			in:   `[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"},{"type":"PodCreated","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"}]`,
			want: `[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"},{"type":"PodCreated","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"}]`,
			st:   Stats{Types: 2},
		},
		{
			name: "newest duplicate survives at the first position",
			in:   `[{"type":"Ready","status":"False","lastTransitionTime":"2026-01-02T00:00:00Z"},{"type":"PodCreated","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"},{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"}]`,
			want: `[{"type":"Ready","status":"False","lastTransitionTime":"2026-01-02T00:00:00Z"},{"type":"PodCreated","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"}]`,
			st:   Stats{Types: 2, Removed: 1},
		},
		{
			name: "later newer entry moves to the first position",
			in:   `[{"type":"Ready","status":"False","lastTransitionTime":"2026-01-01T00:00:00Z"},{"type":"PodCreated","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"},{"type":"Ready","status":"True","lastTransitionTime":"2026-01-03T00:00:00Z","extra":{"k":1}}]`,
			want: `[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-03T00:00:00Z","extra":{"k":1}},{"type":"PodCreated","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"}]`,
			st:   Stats{Types: 2, Removed: 1},
		},
		{
			name: "case variants are one type and the survivor keeps its spelling",
			in:   `[{"type":"ready","status":"False","lastTransitionTime":"2026-01-01T00:00:00Z"},{"type":"READY","status":"True","lastTransitionTime":"2026-01-02T00:00:00Z"}]`,
			want: `[{"type":"READY","status":"True","lastTransitionTime":"2026-01-02T00:00:00Z"}]`,
			st:   Stats{Types: 1, Removed: 1},
		},
		{
			name: "a tie goes to the later entry",
			in:   `[{"type":"Ready","status":"False","reason":"A","lastTransitionTime":"2026-01-01T00:00:00Z"},{"type":"Ready","status":"True","reason":"B","lastTransitionTime":"2026-01-01T00:00:00Z"}]`,
			want: `[{"type":"Ready","status":"True","reason":"B","lastTransitionTime":"2026-01-01T00:00:00Z"}]`,
			st:   Stats{Types: 1, Removed: 1},
		},
		{
			name: "times compare as instants, not as text",
			in:   `[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T10:00:00+02:00"},{"type":"Ready","status":"False","lastTransitionTime":"2026-01-01T09:00:00Z"}]`,
			want: `[{"type":"Ready","status":"False","lastTransitionTime":"2026-01-01T09:00:00Z"}]`,
			st:   Stats{Types: 1, Removed: 1},
		},
		{
			name: "a missing time is filled and counts as now",
			in:   `[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"},{"type":"Ready","status":"False"},{"type":"Other","status":"True","lastTransitionTime":null}]`,
			want: `[{"type":"Ready","status":"False","lastTransitionTime":"` + nowText + `"},{"type":"Other","status":"True","lastTransitionTime":"` + nowText + `"}]`,
			st:   Stats{Types: 2, Removed: 1, Filled: 2},
		},
		{
			name: "an unparseable time ranks oldest and is left for schema validation",
			in:   `[{"type":"Ready","status":"True","lastTransitionTime":"yesterday"},{"type":"Ready","status":"False","lastTransitionTime":"2000-01-01T00:00:00Z"}]`,
			want: `[{"type":"Ready","status":"False","lastTransitionTime":"2000-01-01T00:00:00Z"}]`,
			st:   Stats{Types: 1, Removed: 1},
		},
		{
			name: "entries without a string type stay in place",
			in:   `[7,{"status":"True"},{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"},{"type":3},{"type":"ready","status":"False","lastTransitionTime":"2026-01-02T00:00:00Z"}]`,
			want: `[7,{"status":"True"},{"type":"ready","status":"False","lastTransitionTime":"2026-01-02T00:00:00Z"},{"type":3}]`,
			st:   Stats{Types: 1, Removed: 1},
		},
		{
			name: "an oversized message is cut at a rune boundary",
			in:   `[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z","message":"` + long + `"}]`,
			want: `[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z","message":"` + long[:MaxMessageBytes-1] + `"}]`,
			st:   Stats{Types: 1, Truncated: 1},
		},
		{
			name: "large integers survive the round trip",
			in:   `[{"type":"Ready","status":"True","observedGeneration":9007199254740993}]`,
			want: `[{"type":"Ready","status":"True","observedGeneration":9007199254740993,"lastTransitionTime":"` + nowText + `"}]`,
			st:   Stats{Types: 1, Filled: 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := list(t, tc.in)
			pristine := list(t, tc.in)
			got, st := Collapse(in, now)
			assert.Equal(t, list(t, tc.want), got)
			assert.Equal(t, tc.st, st)
			assert.Equal(t, pristine, in, "Collapse must not modify its input")
			again, st2 := Collapse(got, now)
			assert.Equal(t, got, again, "Collapse must be idempotent")
			assert.False(t, st2.Changed(), "a collapsed list is canonical")
		})
	}
}

func TestCollapseReturnsInputWhenCanonical(t *testing.T) {
	in := list(t, `[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"}]`)
	got, st := Collapse(in, now)
	require.False(t, st.Changed())
	assert.Same(t, &in[0], &got[0], "no copy is made for a canonical list")
}

func TestTruncateMessage(t *testing.T) {
	short := "all good"
	got, cut := TruncateMessage(short)
	assert.Equal(t, short, got)
	assert.False(t, cut)

	exact := strings.Repeat("a", MaxMessageBytes)
	got, cut = TruncateMessage(exact)
	assert.Equal(t, exact, got)
	assert.False(t, cut)

	// A 4-byte rune starting two bytes before the cap must go entirely.
	emoji := strings.Repeat("a", MaxMessageBytes-2) + "😀tail"
	got, cut = TruncateMessage(emoji)
	assert.True(t, cut)
	assert.Equal(t, strings.Repeat("a", MaxMessageBytes-2), got)
}

func TestFoldKeyAgreesWithEqualFold(t *testing.T) {
	pairs := [][2]string{
		{"Ready", "READY"}, {"ready", "rEaDy"}, {"Kelvin", "\u212Aelvin"},
		{"Straße", "STRASSE"}, {"ſtatus", "Status"}, {"Ready", "Readyy"}, {"Σίσυφος", "ΣΊΣΥΦΟΣ"},
	}
	for _, p := range pairs {
		var a, b [64]byte
		assert.Equal(t, SameType(p[0], p[1]), string(foldKey(a[:0], p[0])) == string(foldKey(b[:0], p[1])),
			"foldKey and EqualFold disagree on %q and %q", p[0], p[1])
	}
}
