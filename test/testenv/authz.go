package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WaitAllowed waits until the API server allows user (with groups) what spec
// asks. Its RBAC authorizer learns of a new binding through its own informer,
// so a request made right after the binding is created races it.
func (e *Env) WaitAllowed(t testing.TB, user string, groups []string, attrs authorizationv1.SubjectAccessReviewSpec) {
	t.Helper()
	attrs.User, attrs.Groups = user, groups
	what := fmt.Sprintf("%s allowed %s", user, describe(attrs))
	Eventually(t, 30*time.Second, what, func(ctx context.Context) error {
		review := &authorizationv1.SubjectAccessReview{Spec: attrs}
		if err := e.Client.Create(ctx, review); err != nil {
			return err
		}
		if !review.Status.Allowed {
			return fmt.Errorf("not allowed yet: %s", review.Status.Reason)
		}
		return nil
	})
}

// Resource is the review of verb on group/resource[/subresource] in ns.
func Resource(ns, verb, group, resource, subresource string) authorizationv1.SubjectAccessReviewSpec {
	return authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
		Namespace: ns, Verb: verb, Group: group, Resource: resource, Subresource: subresource}}
}

// firstGrant is the review of the first thing rules grant: what a new binding
// to them is waited on with.
func firstGrant(rules []rbacv1.PolicyRule) (authorizationv1.SubjectAccessReviewSpec, bool) {
	for _, r := range rules {
		if len(r.Verbs) == 0 {
			continue
		}
		if len(r.NonResourceURLs) > 0 {
			return authorizationv1.SubjectAccessReviewSpec{NonResourceAttributes: &authorizationv1.NonResourceAttributes{
				Path: r.NonResourceURLs[0], Verb: r.Verbs[0]}}, true
		}
		if len(r.APIGroups) > 0 && len(r.Resources) > 0 {
			return Resource(metav1.NamespaceAll, r.Verbs[0], r.APIGroups[0], r.Resources[0], ""), true
		}
	}
	return authorizationv1.SubjectAccessReviewSpec{}, false
}

func describe(s authorizationv1.SubjectAccessReviewSpec) string {
	if a := s.ResourceAttributes; a != nil {
		return fmt.Sprintf("%s %s.%s/%s in %q", a.Verb, a.Resource, a.Group, a.Subresource, a.Namespace)
	}
	if a := s.NonResourceAttributes; a != nil {
		return a.Verb + " " + a.Path
	}
	return "?"
}
