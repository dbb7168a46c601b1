package identity

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// AuditPolicy records every request's metadata: who, which verb on what, and the
// answer. Enough to compare the verbs the operator used with those it was granted.
const AuditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
`

// Permission is one verb on one resource (with its subresource, "pods/status")
// of one API group.
type Permission struct {
	Group, Resource, Verb string
}

func (p Permission) String() string {
	group := p.Group
	if group == "" {
		group = "core"
	}
	return fmt.Sprintf("%s %s/%s", p.Verb, group, p.Resource)
}

// auditEvent is the part of an audit.k8s.io/v1 Event read here.
type auditEvent struct {
	Verb string `json:"verb"`
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	ImpersonatedUser *struct {
		Username string `json:"username"`
	} `json:"impersonatedUser"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		APIGroup    string `json:"apiGroup"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// Used is what the audit log at path shows username did: each permission it
// exercised, and those the API server refused (403). Requests that name no
// resource (discovery, /version) are left out: every authenticated user may make
// them.
func Used(path, username string) (used, refused []Permission, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the audit log: %w", err)
	}
	defer f.Close()
	seen, denied := map[Permission]bool{}, map[Permission]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e auditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, nil, fmt.Errorf("decoding an audit event: %w", err)
		}
		who := e.User.Username
		if e.ImpersonatedUser != nil {
			who = e.ImpersonatedUser.Username
		}
		if who != username || e.ObjectRef == nil {
			continue
		}
		p := Permission{Group: e.ObjectRef.APIGroup, Resource: e.ObjectRef.Resource, Verb: e.Verb}
		if e.ObjectRef.Subresource != "" {
			p.Resource += "/" + e.ObjectRef.Subresource
		}
		if e.ResponseStatus != nil && e.ResponseStatus.Code == 403 {
			denied[p] = true
			continue
		}
		seen[p] = true
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading the audit log: %w", err)
	}
	return sorted(seen), sorted(denied), nil
}

// Granted expands roles' rules into permissions. checkedOnly are the ones the
// operator never requests but the API server checks on its behalf: `bind` on the
// ClusterRoles its RoleBindings refer to (RBAC's escalation check) and `update`
// on an owner's finalizers (OwnerReferencesPermissionEnforcement, for
// blockOwnerDeletion); an audit log cannot show those in use.
func Granted(roles []*unstructured.Unstructured) (requested, checkedOnly []Permission, err error) {
	req, checked := map[Permission]bool{}, map[Permission]bool{}
	for _, r := range roles {
		var role rbacv1.ClusterRole // a Role's rules have the same shape
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(r.Object, &role); err != nil {
			return nil, nil, fmt.Errorf("decoding %s %s: %w", r.GetKind(), r.GetName(), err)
		}
		for _, rule := range role.Rules {
			if len(rule.NonResourceURLs) > 0 {
				continue
			}
			for _, g := range rule.APIGroups {
				for _, res := range rule.Resources {
					for _, v := range rule.Verbs {
						p := Permission{Group: g, Resource: res, Verb: v}
						if v == "bind" || strings.HasSuffix(res, "/finalizers") {
							checked[p] = true
						} else {
							req[p] = true
						}
					}
				}
			}
		}
	}
	return sorted(req), sorted(checked), nil
}

// WithImplied adds to used what its requests imply the operator needs on some
// cluster though this run did not show it:
//   - list beside every watch: an informer lists, then watches. Where the API
//     server streams the initial list in the watch (WatchList), no list request
//     is made, and client-go falls back to a list where it does not.
//   - patch beside every create of events: both client-go recorders patch an
//     event that repeats (its count or series) instead of creating another.
func WithImplied(used []Permission) []Permission {
	set := map[Permission]bool{}
	for _, p := range used {
		set[p] = true
		switch {
		case p.Verb == "watch":
			set[Permission{Group: p.Group, Resource: p.Resource, Verb: "list"}] = true
		case p.Verb == "create" && p.Resource == "events":
			set[Permission{Group: p.Group, Resource: p.Resource, Verb: "patch"}] = true
		}
	}
	return sorted(set)
}

// Difference returns the permissions of a that are not in b.
func Difference(a, b []Permission) []Permission {
	var out []Permission
	for _, p := range a {
		if !slices.Contains(b, p) {
			out = append(out, p)
		}
	}
	return out
}

func sorted(set map[Permission]bool) []Permission {
	out := make([]Permission, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Permission) int { return strings.Compare(a.String(), b.String()) })
	return out
}
