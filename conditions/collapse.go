package conditions

import (
	"maps"
	"time"
)

// Stats says what Collapse found and changed.
type Stats struct {
	// Types is the number of distinct condition types (case-insensitive).
	Types int
	// Removed is the number of entries dropped as superseded duplicates.
	Removed int
	// Truncated is the number of messages cut to MaxMessageBytes.
	Truncated int
	// Filled is the number of missing lastTransitionTimes set to the admission time.
	Filled int
}

// Changed reports whether Collapse returned something other than its input.
func (s Stats) Changed() bool { return s.Removed > 0 || s.Truncated > 0 || s.Filled > 0 }

// group is one condition type seen in the list.
type group struct {
	first    int       // index of the first entry of the type; the survivor goes here
	survivor int       // index of the newest entry so far
	at       time.Time // its lastTransitionTime (the admission time when missing)
}

// Collapse returns conds with one entry per condition type, as I3 defines it:
//   - types are compared case-insensitively (SameType);
//   - the survivor is the newest entry by lastTransitionTime, on a tie the later
//     one, kept as a whole (every key, known or not, with its own spelling of the
//     type) at the position where its type first appeared;
//   - a missing, null or empty lastTransitionTime counts as now and is filled with
//     now (RFC 3339, seconds, UTC), since the writer is writing it now;
//   - a message over MaxMessageBytes is cut at a UTF-8 boundary.
//
// Entries that are not objects with a string "type", and timestamps that do not
// parse, are left as they are for the API server's schema validation to reject
// (an unparseable time ranks oldest). Input maps are never modified: a survivor
// that needs a fix is copied first. When nothing changes, conds itself is returned.
func Collapse(conds []any, now time.Time) ([]any, Stats) {
	var stats Stats
	nowText := now.UTC().Format(time.RFC3339)
	nowTime, _ := time.Parse(time.RFC3339, nowText) // compare at the precision stored
	groups := make(map[string]*group, len(conds))
	groupOf := make([]*group, len(conds)) // nil for entries without a type
	var keyBuf [64]byte
	for i, c := range conds {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		typ, ok := m["type"].(string)
		if !ok {
			continue
		}
		at := transitionTime(m, nowTime)
		key := foldKey(keyBuf[:0], typ)
		g := groups[string(key)]
		if g == nil {
			g = &group{first: i, survivor: i, at: at}
			groups[string(key)] = g
		} else {
			stats.Removed++
			if !at.Before(g.at) { // newer, or a tie that the later entry wins
				g.survivor, g.at = i, at
			}
		}
		groupOf[i] = g
	}
	stats.Types = len(groups)

	var out []any // stays nil while the result equals conds
	for i, c := range conds {
		g := groupOf[i]
		if g != nil {
			if g.first != i { // a superseded duplicate, or the survivor emitted earlier
				if out == nil {
					out = append(make([]any, 0, len(conds)), conds[:i]...)
				}
				continue
			}
			m, fixed := fix(conds[g.survivor].(map[string]any), nowText, &stats)
			if out == nil && (fixed || g.survivor != i) {
				out = append(make([]any, 0, len(conds)), conds[:i]...)
			}
			c = m
		}
		if out != nil {
			out = append(out, c)
		}
	}
	if out == nil {
		return conds, stats
	}
	return out, stats
}

// transitionTime is the entry's lastTransitionTime; now when it is missing, null
// or empty; the zero time when it does not parse.
func transitionTime(m map[string]any, now time.Time) time.Time {
	v, ok := m["lastTransitionTime"]
	if !ok || v == nil || v == "" {
		return now
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// fix fills a missing lastTransitionTime and truncates an oversized message,
// copying m before the first change so that the caller's map stays intact.
func fix(m map[string]any, nowText string, stats *Stats) (map[string]any, bool) {
	fixed := false
	if v, ok := m["lastTransitionTime"]; !ok || v == nil || v == "" {
		m = maps.Clone(m)
		m["lastTransitionTime"] = nowText
		stats.Filled++
		fixed = true
	}
	if msg, ok := m["message"].(string); ok {
		if cut, truncated := TruncateMessage(msg); truncated {
			if !fixed {
				m = maps.Clone(m)
			}
			m["message"] = cut
			stats.Truncated++
			fixed = true
		}
	}
	return m, fixed
}
