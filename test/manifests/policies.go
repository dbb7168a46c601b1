package manifests

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Kinds of the admission policies in config/policies.
const (
	KindValidatingAdmissionPolicy = "ValidatingAdmissionPolicy"
	KindMutatingAdmissionPolicy   = "MutatingAdmissionPolicy"
)

// creatorsVariable is the policy variable that lists the runner creators.
const creatorsVariable = "creators"

// SetRunnerCreators rewrites the runner creators list of every policy that has
// one to creators, the way --runner-creators configures the webhook: a run whose
// operator is another identity (make run's admin, a test's) installs the same
// policies with its own list. It fails when no policy lists creators.
func SetRunnerCreators(objs []*unstructured.Unstructured, creators []string) error {
	quoted := make([]string, len(creators))
	for i, c := range creators {
		quoted[i] = strconv.Quote(c)
	}
	literal := "[" + strings.Join(quoted, ", ") + "]"
	found := false
	for _, o := range OfKind(objs, KindValidatingAdmissionPolicy) {
		vars, _, err := unstructured.NestedSlice(o.Object, "spec", "variables")
		if err != nil {
			return fmt.Errorf("%s %s: %w", o.GetKind(), o.GetName(), err)
		}
		for _, v := range vars {
			if m, ok := v.(map[string]any); ok && m["name"] == creatorsVariable {
				m["expression"] = literal
				found = true
			}
		}
		if err := unstructured.SetNestedSlice(o.Object, vars, "spec", "variables"); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("no %s has a %q variable", KindValidatingAdmissionPolicy, creatorsVariable)
	}
	return nil
}
