// Package identity runs the operator in tests as a cluster would: under its own
// ServiceAccount with the roles the shipped manifests grant it, not as the test's
// admin. A verb the roles lack then fails the suite that needs it, the same way it
// would fail in a cluster.
package identity

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// fieldOwner is the server-side-apply field manager of what Grant applies.
const fieldOwner = "identity-test"

// Operator is the operator's ServiceAccount and the RBAC objects the shipped
// manifests (config/default) give it.
type Operator struct {
	Namespace, ServiceAccount string
	// Roles are the Roles and ClusterRoles bound to the ServiceAccount.
	Roles []*unstructured.Unstructured
	// Objects are what Grant applies: the namespace, the ServiceAccount, Roles
	// and bindings.
	Objects []*unstructured.Unstructured
}

// Username is the operator's username, the one the webhook's and the policies'
// runner-creator lists name.
func (o *Operator) Username() string {
	return "system:serviceaccount:" + o.Namespace + ":" + o.ServiceAccount
}

// Config returns a copy of admin that acts as the operator. The API server
// authorizes impersonated requests as the impersonated user and its groups, and
// records that user in the audit log.
func (o *Operator) Config(admin *rest.Config) *rest.Config {
	cfg := rest.CopyConfig(admin)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: o.Username(),
		// What the API server's token authenticator gives a ServiceAccount.
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + o.Namespace, "system:authenticated"},
	}
	return cfg
}

// FromManifests reads the operator's identity from config/default under root,
// built with kubectl: the Deployment's ServiceAccount and every Role and
// ClusterRole bound to it.
func FromManifests(ctx context.Context, kubectl, root string) (*Operator, error) {
	objs, err := manifests.Build(ctx, kubectl, filepath.Join(root, "config", "default"))
	if err != nil {
		return nil, err
	}
	return fromObjects(objs)
}

func fromObjects(objs []*unstructured.Unstructured) (*Operator, error) {
	var op *Operator
	for _, d := range manifests.OfKind(objs, "Deployment") {
		if d.GetLabels()["app.kubernetes.io/component"] != "operator" {
			continue
		}
		sa, _, _ := unstructured.NestedString(d.Object, "spec", "template", "spec", "serviceAccountName")
		op = &Operator{Namespace: d.GetNamespace(), ServiceAccount: sa}
	}
	if op == nil || op.ServiceAccount == "" {
		return nil, fmt.Errorf("config/default has no operator Deployment (label app.kubernetes.io/component=operator) with a serviceAccountName")
	}
	for _, o := range objs {
		switch {
		case o.GetKind() == "Namespace" && o.GetName() == op.Namespace,
			o.GetKind() == "ServiceAccount" && o.GetNamespace() == op.Namespace && o.GetName() == op.ServiceAccount:
			op.Objects = append(op.Objects, o)
		case (o.GetKind() == "RoleBinding" || o.GetKind() == "ClusterRoleBinding") && op.boundBy(o):
			op.Objects = append(op.Objects, o)
			role, err := roleOf(objs, o)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(op.Roles, role) {
				op.Roles = append(op.Roles, role)
				op.Objects = append(op.Objects, role)
			}
		}
	}
	if len(op.Roles) == 0 {
		return nil, fmt.Errorf("config/default binds no role to ServiceAccount %s/%s", op.Namespace, op.ServiceAccount)
	}
	return op, nil
}

// boundBy reports whether binding names the operator's ServiceAccount.
func (o *Operator) boundBy(binding *unstructured.Unstructured) bool {
	subjects, _, _ := unstructured.NestedSlice(binding.Object, "subjects")
	for _, s := range subjects {
		m, _ := s.(map[string]any)
		if m["kind"] == "ServiceAccount" && m["name"] == o.ServiceAccount && m["namespace"] == o.Namespace {
			return true
		}
	}
	return false
}

// roleOf finds the Role or ClusterRole binding refers to among objs.
func roleOf(objs []*unstructured.Unstructured, binding *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	kind, _, _ := unstructured.NestedString(binding.Object, "roleRef", "kind")
	name, _, _ := unstructured.NestedString(binding.Object, "roleRef", "name")
	for _, o := range manifests.OfKind(objs, kind) {
		if o.GetName() == name && (kind == "ClusterRole" || o.GetNamespace() == binding.GetNamespace()) {
			return o, nil
		}
	}
	return nil, fmt.Errorf("%s %s refers to %s %s, which config/default does not ship", binding.GetKind(), binding.GetName(), kind, name)
}

// Grant applies the operator's namespace, ServiceAccount, roles and bindings.
func (o *Operator) Grant(ctx context.Context, c client.Client) error {
	if err := manifests.Apply(ctx, c, fieldOwner, o.Objects...); err != nil {
		return fmt.Errorf("granting the operator its shipped roles: %w", err)
	}
	return nil
}

// Shipped grants the operator its shipped roles on env's control plane and
// returns its identity, for suites that run the operator in-process.
func Shipped(t testing.TB, env *testenv.Env) *Operator {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	op, err := FromManifests(ctx, filepath.Join(env.BinDir, "kubectl"), env.Root)
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Grant(ctx, env.Client); err != nil {
		t.Fatal(err)
	}
	return op
}
