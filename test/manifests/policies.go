package manifests

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/google/cel-go/cel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Kinds of the admission policies in config/policies and of their bindings.
const (
	KindValidatingAdmissionPolicy        = "ValidatingAdmissionPolicy"
	KindValidatingAdmissionPolicyBinding = "ValidatingAdmissionPolicyBinding"
	KindMutatingAdmissionPolicy          = "MutatingAdmissionPolicy"
	KindMutatingAdmissionPolicyBinding   = "MutatingAdmissionPolicyBinding"
)

// PolicyKinds are the kinds of config/policies' objects, all cluster-scoped.
var PolicyKinds = []string{
	KindValidatingAdmissionPolicy, KindValidatingAdmissionPolicyBinding,
	KindMutatingAdmissionPolicy, KindMutatingAdmissionPolicyBinding,
}

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

// RunnerCreators evaluates the runner creators list of every policy that has
// one and returns it; all such policies must agree. The list is a CEL
// expression, so it is evaluated as the API server would, not parsed.
func RunnerCreators(objs []*unstructured.Unstructured) ([]string, error) {
	var creators []string
	found := false
	for _, o := range OfKind(objs, KindValidatingAdmissionPolicy) {
		vars, _, err := unstructured.NestedSlice(o.Object, "spec", "variables")
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", o.GetKind(), o.GetName(), err)
		}
		for _, v := range vars {
			m, ok := v.(map[string]any)
			if !ok || m["name"] != creatorsVariable {
				continue
			}
			expr, _ := m["expression"].(string)
			list, err := evalStringList(expr)
			if err != nil {
				return nil, fmt.Errorf("%s %s: variable %q: %w", o.GetKind(), o.GetName(), creatorsVariable, err)
			}
			if found && !slices.Equal(list, creators) {
				return nil, fmt.Errorf("%s %s lists runner creators %v, another policy %v", o.GetKind(), o.GetName(), list, creators)
			}
			creators, found = list, true
		}
	}
	if !found {
		return nil, fmt.Errorf("no %s has a %q variable", KindValidatingAdmissionPolicy, creatorsVariable)
	}
	return creators, nil
}

// evalStringList evaluates a CEL expression that needs no variables and must
// yield a list of strings.
func evalStringList(expr string) ([]string, error) {
	env, err := cel.NewEnv()
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("compiling %q: %w", expr, iss.Err())
	}
	prg, err := env.Program(ast)
	if err != nil {
		return nil, fmt.Errorf("compiling %q: %w", expr, err)
	}
	out, _, err := prg.Eval(cel.NoVars())
	if err != nil {
		return nil, fmt.Errorf("evaluating %q: %w", expr, err)
	}
	native, err := out.ConvertToNative(reflect.TypeOf([]string{}))
	if err != nil {
		return nil, fmt.Errorf("%q is not a list of strings: %w", expr, err)
	}
	return native.([]string), nil
}
