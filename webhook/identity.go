package webhook

import (
	"slices"
	"strings"
)

// garbageCollector is the identity kube-controller-manager's garbage collector
// writes with (it runs with --use-service-account-credentials, as every
// kubeadm-style and managed control plane does). It is the one writer allowed to
// orphan a runner pod: when an AgenticSession is deleted with
// propagationPolicy=Orphan it removes the session's ownerReference and nothing else.
const garbageCollector = "system:serviceaccount:kube-system:generic-garbage-collector"

// identities is the set of usernames (plain users, or
// system:serviceaccount:<namespace>:<name>) allowed to create runner pods and to
// archive sessions. A nil set means the rule is not configured: anyone may.
type identities map[string]bool

func newIdentities(names []string) identities {
	var set identities
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			if set == nil {
				set = identities{}
			}
			set[n] = true
		}
	}
	return set
}

// allows reports whether username is one of the identities, or whether the rule
// is not configured.
func (s identities) allows(username string) bool {
	return s == nil || s[username]
}

// String lists the identities, sorted, for messages.
func (s identities) String() string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
