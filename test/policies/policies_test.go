// Package policies tests config/policies on a real API server with no webhook:
// the pod rules and the runner labels hold in the API server alone (a webhook
// outage), the policies agree with the webhook on every recorded pod fixture,
// and ProjectSettings grants need the bind right.
package policies

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

const (
	fieldOwner  = "policies-test"
	operatorSA  = "system:serviceaccount:ambient-code-system:ambient-code-operator"
	managedKey  = "ambient-code.io/managed"
	policyError = "ValidatingAdmissionPolicy"
)

var (
	podsGVR  = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	psGVR    = schema.GroupVersionResource{Group: "vteam.ambient-code", Version: "v1alpha1", Resource: "projectsettings"}
	managed  = map[string]string{managedKey: "true"}
	ctxLimit = 3 * time.Minute
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), ctxLimit)
	t.Cleanup(cancel)
	return ctx
}

// policies renders config/policies with the given runner creators, and the
// kinds asked for (all when none).
func policies(t *testing.T, env *testenv.Env, creators []string, kinds ...string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := manifests.Build(testContext(t), filepath.Join(env.BinDir, "kubectl"), filepath.Join(env.Root, "config", "policies"))
	if err != nil {
		t.Fatal(err)
	}
	if err := manifests.SetRunnerCreators(objs, creators); err != nil {
		t.Fatal(err)
	}
	if len(kinds) > 0 {
		objs = manifests.OfKind(objs, kinds...)
	}
	if len(objs) == 0 {
		t.Fatalf("config/policies holds none of %v", kinds)
	}
	return objs
}

func apply(t *testing.T, env *testenv.Env, objs []*unstructured.Unstructured) {
	t.Helper()
	if err := manifests.Apply(testContext(t), env.Client, fieldOwner, objs...); err != nil {
		t.Fatal(err)
	}
}

// as returns a dynamic client impersonating user with groups.
func as(t *testing.T, env *testenv.Env, user string, groups ...string) dynamic.Interface {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	d, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// grantAll lets user do anything through RBAC, so that only admission decides.
func grantAll(t *testing.T, env *testenv.Env, user string) {
	t.Helper()
	name := "all-" + strings.NewReplacer(":", "-", "@", "-").Replace(user)
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	if err := env.Client.Create(testContext(t), crb); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	env.WaitAllowed(t, user, nil, testenv.Resource("", "*", "*", "*", ""))
}

func runnerPod(ns, name, session string, labels map[string]string) *unstructured.Unstructured {
	pod := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"name": name, "namespace": ns,
			"ownerReferences": []any{map[string]any{
				"apiVersion": "vteam.ambient-code/v1alpha1", "kind": "AgenticSession",
				"name": session, "uid": "00000000-0000-0000-0000-0000000000" + fmt.Sprintf("%02d", len(session)%100), "controller": true,
			}},
		},
		"spec": map[string]any{"containers": []any{map[string]any{"name": "runner", "image": "runner:test"}}},
	}}
	if session == "" {
		unstructured.RemoveNestedField(pod.Object, "metadata", "ownerReferences")
	}
	if labels != nil {
		pod.SetLabels(labels)
	}
	return pod
}

// waitPolicies waits until both pod policies are enforced: a dry-run runner pod
// created by a creator gets its labels, and a claim outside a managed namespace
// is denied.
func waitPolicies(t *testing.T, env *testenv.Env, creator, managedNS, plainNS string, mutating bool) {
	t.Helper()
	c := as(t, env, creator)
	testenv.Eventually(t, 30*time.Second, "policies enforced", func(ctx context.Context) error {
		_, err := c.Resource(podsGVR).Namespace(plainNS).Create(ctx,
			runnerPod(plainNS, "probe", "", map[string]string{"ambient-code.io/runner": "true"}),
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil {
			return errors.New("runner-pods policy not enforced yet")
		}
		if !mutating {
			return nil
		}
		got, err := c.Resource(podsGVR).Namespace(managedNS).Create(ctx, runnerPod(managedNS, "probe-runner", "probe", nil),
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return err
		}
		if got.GetLabels()["agentic-session"] != "probe" {
			return errors.New("runner-pod-labels policy not enforced yet")
		}
		return nil
	})
}

// Outage: the policies installed and no webhook anywhere.
func TestOutage(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := testContext(t)
	env.CreateNamespace(t, "team-a", managed)
	env.CreateNamespace(t, "plain", nil)
	apply(t, env, policies(t, env, []string{operatorSA}))
	grantAll(t, env, operatorSA)
	// alice: an ordinary project member, a Role on pods and the CRDs only.
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "member", Namespace: "team-a"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods", "pods/status"}, Verbs: []string{"*"}},
			{APIGroups: []string{"vteam.ambient-code"}, Resources: []string{"*"}, Verbs: []string{"*"}},
		},
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "member", Namespace: "team-a"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "member"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "alice"}},
	}
	for _, o := range []client.Object{role, rb} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	env.WaitAllowed(t, "alice", nil, testenv.Resource("team-a", "patch", "", "pods", "status"))
	waitPolicies(t, env, operatorSA, "team-a", "plain", true)

	operator := as(t, env, operatorSA, "system:serviceaccounts", "system:authenticated")
	pod, err := operator.Resource(podsGVR).Namespace("team-a").Create(ctx, runnerPod("team-a", "s1-runner", "s1", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the operator's runner pod: %v", err)
	}
	want := map[string]string{"ambient-code.io/runner": "true", "agentic-session": "s1", "app": "ambient-code-runner"}
	for k, v := range want {
		if pod.GetLabels()[k] != v {
			t.Errorf("runner pod label %s = %q, want %q (labels %v)", k, pod.GetLabels()[k], v, pod.GetLabels())
		}
	}

	alice := as(t, env, "alice", "system:authenticated")
	_, err = alice.Resource(podsGVR).Namespace("team-a").Create(ctx, runnerPod("team-a", "s1-runner", "s1", nil),
		metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	requireDenied(t, err, "only the runner creators ("+operatorSA+") may create a pod controlled by AgenticSession \"s1\"; the request came from \"alice\"")

	// The spoofed forms of the attacks, as alice.
	patch := func(name, patch string, sub ...string) error {
		_, err := alice.Resource(podsGVR).Namespace("team-a").Patch(ctx, name, "application/json-patch+json", []byte(patch), metav1.PatchOptions{}, sub...)
		return err
	}
	requireDenied(t, patch("s1-runner", `[{"op":"replace","path":"/metadata/ownerReferences/0/name","value":"s2"}]`),
		`cannot be changed (was AgenticSession "s1"`)
	requireDenied(t, patch("s1-runner", `[{"op":"remove","path":"/metadata/ownerReferences"}]`),
		`cannot be removed (was AgenticSession "s1", request from "alice")`)
	requireDenied(t, patch("s1-runner", `[{"op":"replace","path":"/metadata/labels/agentic-session","value":"s2"}]`),
		`"agentic-session" (was "s1", now "s2")`)
	plain, err := alice.Resource(podsGVR).Namespace("team-a").Create(ctx, runnerPod("team-a", "plain", "", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("a plain pod: %v", err)
	}
	requireDenied(t, patch(plain.GetName(), `[{"op":"add","path":"/metadata/labels","value":{"agentic-session":"s1"}}]`),
		`"agentic-session"="s1" reserved for runner pods`)
	// Their allowed counterparts: another label on a runner pod, and the
	// kubelet's status write.
	if err := patch("s1-runner", `[{"op":"add","path":"/metadata/labels/team","value":"x"}]`); err != nil {
		t.Errorf("an unrelated label on a runner pod: %v", err)
	}
	kubelet := as(t, env, "system:node:node-1", "system:nodes", "system:authenticated")
	grantAll(t, env, "system:node:node-1")
	status := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"phase": "Running"}}}
	data, _ := json.Marshal(status.Object)
	if _, err := kubelet.Resource(podsGVR).Namespace("team-a").Patch(ctx, "s1-runner", "application/merge-patch+json", data, metav1.PatchOptions{}, "status"); err != nil {
		t.Errorf("the kubelet's status write on a runner pod: %v", err)
	}
	// Outside managed namespaces nothing poses as a runner pod, whoever writes.
	_, err = operator.Resource(podsGVR).Namespace("plain").Create(ctx,
		runnerPod("plain", "x", "", map[string]string{"ambient-code.io/runner": "true"}), metav1.CreateOptions{})
	requireDenied(t, err, `on a pod in namespace "plain", which is not labelled ambient-code.io/managed=true`)
}

func requireDenied(t *testing.T, err error, message string) {
	t.Helper()
	if err == nil {
		t.Errorf("allowed; want denied with %q", message)
		return
	}
	if !strings.Contains(err.Error(), policyError) || !strings.Contains(err.Error(), message) {
		t.Errorf("denied with %v; want a policy denial with %q", err, message)
	}
}

// ProjectSettings: a group role needs the bind right on its ClusterRole.
func TestProjectSettingsGroupAccess(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := testContext(t)
	env.CreateNamespace(t, "team-a", managed)
	apply(t, env, policies(t, env, []string{operatorSA}, "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"))
	for _, r := range []string{"admin", "edit", "view"} {
		if err := env.Client.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "ambient-project-" + r}}); err != nil {
			t.Fatal(err)
		}
	}
	// All three users write ProjectSettings; bob may bind ambient-project-edit,
	// carol all three project roles.
	rules := []rbacv1.PolicyRule{{APIGroups: []string{"vteam.ambient-code"}, Resources: []string{"*"}, Verbs: []string{"*"}}}
	bind := func(roles ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles"}, Verbs: []string{"bind"}, ResourceNames: roles}
	}
	for user, rs := range map[string][]rbacv1.PolicyRule{
		"alice": rules,
		"bob":   append(slices.Clone(rules), bind("ambient-project-edit")),
		"carol": append(slices.Clone(rules), bind("ambient-project-admin", "ambient-project-edit", "ambient-project-view")),
	} {
		objs := []client.Object{
			&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: user, Namespace: "team-a"}, Rules: rs},
			&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user, Namespace: "team-a"},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user},
				Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}}},
		}
		for _, o := range objs {
			if err := env.Client.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
	}
	// settings grants group each of roles.
	settings := func(group string, roles ...string) *unstructured.Unstructured {
		var access []any
		for _, r := range roles {
			access = append(access, map[string]any{"groupName": group, "role": r})
		}
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "vteam.ambient-code/v1alpha1", "kind": "ProjectSettings",
			"metadata": map[string]any{"name": "projectsettings", "namespace": "team-a"},
			"spec":     map[string]any{"groupAccess": access},
		}}
	}
	create := func(user, group string, roles ...string) error {
		_, err := as(t, env, user, "system:authenticated").Resource(psGVR).Namespace("team-a").Create(ctx, settings(group, roles...),
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	}
	testenv.Eventually(t, 30*time.Second, "projectsettings policy enforced", func(ctx context.Context) error {
		if create("bob", "system:masters", "edit") == nil {
			return errors.New("not enforced yet")
		}
		return nil
	})
	if err := create("bob", "devs", "edit"); err != nil {
		t.Errorf("bob may bind ambient-project-edit and asks for edit: %v", err)
	}
	requireDenied(t, create("bob", "devs", "admin"), `"bob" asks for "admin" in namespace "team-a" and may not bind`)
	requireDenied(t, create("alice", "devs", "edit"), `"alice" asks for "edit" in namespace "team-a" and may not bind`)
	requireDenied(t, create("bob", "system:authenticated", "edit"), `"system:authenticated": groups starting with "system:" cannot be granted`)
	// Every role at once, as config/samples does: each is checked (an
	// authorizer check per role in one expression would exceed its cost limit
	// and fail to evaluate).
	if err := create("carol", "devs", "admin", "edit", "view"); err != nil {
		t.Errorf("carol may bind every project role and asks for all three: %v", err)
	}
	// The API server reports the first refusing validation.
	requireDenied(t, create("bob", "devs", "admin", "edit", "view"), `"bob" asks for "admin" in namespace "team-a" and may not bind ClusterRole "ambient-project-admin"`)
	requireDenied(t, create("bob", "devs", "edit", "view"), `"bob" asks for "view" in namespace "team-a" and may not bind ClusterRole "ambient-project-view"`)
}

// fixture is one recorded pod review and the webhook's answer to it.
type fixture struct {
	name    string
	request struct {
		Operation   string                  `json:"operation"`
		SubResource string                  `json:"subResource"`
		Kind        metav1.GroupVersionKind `json:"kind"`
		UserInfo    struct {
			Username string   `json:"username"`
			Groups   []string `json:"groups"`
		} `json:"userInfo"`
		Object    json.RawMessage `json:"object"`
		OldObject json.RawMessage `json:"oldObject"`
	}
	golden struct {
		Allowed bool             `json:"allowed"`
		Message string           `json:"message"`
		Patch   []map[string]any `json:"patch"`
	}
	object, oldObject *unstructured.Unstructured
}

// loadFixtures reads the pod fixtures of endpoint. Reviews that cannot be
// replayed through the API server (the object or old object does not decode as
// a pod, a kind other than Pod) are returned apart, with why.
func loadFixtures(t *testing.T, root, endpoint string) (cases []*fixture, unreplayable map[string]string) {
	t.Helper()
	dir := filepath.Join(root, "webhook", "testdata", endpoint)
	names, err := filepath.Glob(filepath.Join(dir, "*.request.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no fixtures in %s: %v", dir, err)
	}
	sort.Strings(names)
	unreplayable = map[string]string{}
	for _, n := range names {
		f := &fixture{name: strings.TrimSuffix(filepath.Base(n), ".request.json")}
		var review struct {
			Request json.RawMessage `json:"request"`
		}
		body, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		golden, err := os.ReadFile(strings.TrimSuffix(n, ".request.json") + ".golden.json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(golden, &f.golden); err != nil {
			t.Fatalf("%s golden: %v", f.name, err)
		}
		if err := json.Unmarshal(body, &review); err != nil || json.Unmarshal(review.Request, &f.request) != nil {
			unreplayable[f.name] = "the review does not decode"
			continue
		}
		if f.request.Kind.Kind != "Pod" || f.request.Kind.Group != "" {
			unreplayable[f.name] = "the review is of a " + f.request.Kind.Kind + ", not a Pod"
			continue
		}
		if f.object, err = decodePod(f.request.Object); err != nil {
			unreplayable[f.name] = "object: " + err.Error()
			continue
		}
		if f.request.Operation == "UPDATE" {
			if f.oldObject, err = decodePod(f.request.OldObject); err != nil {
				unreplayable[f.name] = "oldObject: " + err.Error()
				continue
			}
		}
		cases = append(cases, f)
	}
	return cases, unreplayable
}

func decodePod(raw json.RawMessage) (*unstructured.Unstructured, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("absent")
	}
	var pod corev1.Pod // a pod the API server could have stored decodes as one
	if err := json.Unmarshal(raw, &pod); err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	return u, nil
}

// forCreate strips what the API server sets itself.
func forCreate(o *unstructured.Unstructured, ns string) *unstructured.Unstructured {
	o = o.DeepCopy()
	o.SetNamespace(ns)
	o.SetUID("")
	o.SetResourceVersion("")
	o.SetCreationTimestamp(metav1.Time{})
	o.SetManagedFields(nil)
	o.SetGeneration(0)
	return o
}

// replay sends f as its user through the API server (CREATE as a dry run;
// UPDATE of the old object created beforehand, also a dry run), or reports
// that the policies do not see its operation.
func replay(t *testing.T, env *testenv.Env, f *fixture, ns string, old *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	ctx := testContext(t)
	c := as(t, env, f.request.UserInfo.Username, f.request.UserInfo.Groups...).Resource(podsGVR).Namespace(ns)
	dry := []string{metav1.DryRunAll}
	switch f.request.Operation {
	case "CREATE":
		return c.Create(ctx, forCreate(f.object, ns), metav1.CreateOptions{DryRun: dry})
	case "UPDATE":
		o := f.object.DeepCopy()
		o.SetNamespace(ns)
		o.SetUID(old.GetUID())
		o.SetResourceVersion(old.GetResourceVersion())
		o.SetManagedFields(nil)
		var sub []string
		if f.request.SubResource != "" {
			sub = []string{f.request.SubResource}
		}
		return c.Update(ctx, o, metav1.UpdateOptions{DryRun: dry}, sub...)
	}
	return nil, fmt.Errorf("operation %s", f.request.Operation)
}

// Agreement: every recorded pod review, replayed through an API server that has
// only the policies, gets the webhook's allow or deny.
func TestAgreementWithWebhookFixtures(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := testContext(t)
	// The fixtures' runner creators (webhook/testdata/README.md).
	creators := []string{"admin", operatorSA}
	env.CreateNamespace(t, "plain", nil)
	for _, endpoint := range []string{"validate-v1-pod", "mutate-v1-pod"} {
		cases, unreplayable := loadFixtures(t, env.Root, endpoint)
		var names []string
		for n, why := range unreplayable {
			names = append(names, n+" ("+why+")")
		}
		sort.Strings(names)
		t.Logf("%s: %d fixtures replayed, %d cannot be replayed: %s", endpoint, len(cases), len(unreplayable), strings.Join(names, "; "))
		if len(cases) == 0 {
			t.Fatalf("%s: nothing to replay", endpoint)
		}
		// The old objects are stored before any policy exists, as pods admitted
		// earlier would be; each case has its own managed namespace.
		olds := map[string]*unstructured.Unstructured{}
		for i, f := range cases {
			ns := fmt.Sprintf("%s-%02d", endpoint[:1], i)
			env.CreateNamespace(t, ns, managed)
			grantAll(t, env, f.request.UserInfo.Username)
			if f.oldObject == nil {
				continue
			}
			old, err := as(t, env, "admin", "system:masters").Resource(podsGVR).Namespace(ns).Create(ctx, forCreate(f.oldObject, ns), metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("%s: storing the old object: %v", f.name, err)
			}
			olds[f.name] = old
		}
		kinds := []string{manifests.KindValidatingAdmissionPolicy, "ValidatingAdmissionPolicyBinding"}
		if endpoint == "mutate-v1-pod" {
			kinds = append(kinds, manifests.KindMutatingAdmissionPolicy, "MutatingAdmissionPolicyBinding")
		}
		apply(t, env, policies(t, env, creators, kinds...))
		waitPolicies(t, env, "admin", "m-00", "plain", endpoint == "mutate-v1-pod")
		replayed := 0
		for i, f := range cases {
			ns := fmt.Sprintf("%s-%02d", endpoint[:1], i)
			t.Run(endpoint+"/"+f.name, func(t *testing.T) {
				if f.request.Operation != "CREATE" && f.request.Operation != "UPDATE" {
					// The policies match CREATE and UPDATE only: any other operation is
					// allowed, and the webhook must allow it too.
					if !f.golden.Allowed {
						t.Errorf("%s: the webhook denies a %s the policies never see: %s", f.name, f.request.Operation, f.golden.Message)
					}
					return
				}
				replayed++
				got, err := replay(t, env, f, ns, olds[f.name])
				if err != nil && !strings.Contains(err.Error(), policyError) {
					t.Fatalf("replay failed outside the policies: %v", err)
				}
				if endpoint == "validate-v1-pod" {
					if allowed := err == nil; allowed != f.golden.Allowed {
						t.Errorf("policy allowed=%v (%v), webhook allowed=%v (%s)", allowed, err, f.golden.Allowed, f.golden.Message)
					}
					return
				}
				// The mutator denies only what the creation rule refuses, and labels
				// runner pods: the same denial from the policies, the same labels.
				creationDenied := err != nil && strings.Contains(err.Error(), "runner creation:")
				if creationDenied == f.golden.Allowed {
					t.Errorf("policy creation denial=%v (%v), webhook allowed=%v (%s)", creationDenied, err, f.golden.Allowed, f.golden.Message)
				}
				if err == nil && f.golden.Allowed {
					want := patchedLabels(t, f)
					for k, v := range want {
						if got.GetLabels()[k] != v {
							t.Errorf("label %s = %q after the policies, %q after the webhook's patch", k, got.GetLabels()[k], v)
						}
					}
				}
			})
		}
		if replayed == 0 {
			t.Fatalf("%s: no fixture replayed", endpoint)
		}
	}
}

// patchedLabels returns the runner labels the webhook's patch gives the object.
func patchedLabels(t *testing.T, f *fixture) map[string]string {
	labels := map[string]string{}
	for k, v := range f.object.GetLabels() {
		labels[k] = v
	}
	for _, op := range f.golden.Patch {
		path, _ := op["path"].(string)
		switch {
		case path == "/metadata/labels":
			for k, v := range op["value"].(map[string]any) {
				labels[k] = v.(string)
			}
		case strings.HasPrefix(path, "/metadata/labels/"):
			key := strings.NewReplacer("~1", "/", "~0", "~").Replace(strings.TrimPrefix(path, "/metadata/labels/"))
			labels[key] = op["value"].(string)
		default:
			t.Fatalf("patch outside labels: %v", op)
		}
	}
	out := map[string]string{}
	for _, k := range []string{"ambient-code.io/runner", "agentic-session", "app"} {
		if v, ok := labels[k]; ok {
			out[k] = v
		}
	}
	return out
}
