package project

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func settings(entries ...v1alpha1.GroupAccess) *v1alpha1.ProjectSettings {
	return &v1alpha1.ProjectSettings{
		ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.ProjectSettingsName, Namespace: "proj", UID: "ps-uid"},
		Spec:       v1alpha1.ProjectSettingsSpec{GroupAccess: entries},
	}
}

func TestDesiredBindings(t *testing.T) {
	tests := []struct {
		name    string
		entries []v1alpha1.GroupAccess
		want    []string
	}{
		{"no entries, no bindings", nil, nil},
		{"one binding per entry, sorted by name",
			[]v1alpha1.GroupAccess{{GroupName: "ops", Role: "view"}, {GroupName: "devs", Role: "edit"}},
			[]string{"devs-edit", "ops-view"}},
		{"duplicate entries yield one binding",
			[]v1alpha1.GroupAccess{{GroupName: "devs", Role: "edit"}, {GroupName: "devs", Role: "edit"}},
			[]string{"devs-edit"}},
		{"one group may hold several roles",
			[]v1alpha1.GroupAccess{{GroupName: "devs", Role: "edit"}, {GroupName: "devs", Role: "admin"}},
			[]string{"devs-admin", "devs-edit"}},
		{"an entry without a group is skipped",
			[]v1alpha1.GroupAccess{{GroupName: "", Role: "view"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, rb := range DesiredBindings(settings(tc.entries...)) {
				got = append(got, rb.Name)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestBuildBinding(t *testing.T) {
	ps := settings()
	rb := BuildBinding(ps, v1alpha1.GroupAccess{GroupName: "devs", Role: "edit"})
	assert.Equal(t, "devs-edit", rb.Name)
	assert.Equal(t, "proj", rb.Namespace)
	assert.Equal(t, map[string]string{v1alpha1.LabelGroupAccess: "true", v1alpha1.LabelManaged: "true"}, rb.Labels)
	assert.Equal(t, rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "ambient-project-edit"}, rb.RoleRef)
	assert.Equal(t, []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "devs"}}, rb.Subjects)
	require.Len(t, rb.OwnerReferences, 1)
	assert.True(t, metav1.IsControlledBy(rb, ps))

	same := BuildBinding(ps, v1alpha1.GroupAccess{GroupName: "devs", Role: "edit"})
	assert.True(t, bindingMatches(same, rb))
	other := BuildBinding(ps, v1alpha1.GroupAccess{GroupName: "devs", Role: "view"})
	assert.False(t, bindingMatches(other, rb))
}

func TestDefaultSettingsSendsAnEmptyList(t *testing.T) {
	ps := DefaultSettings("proj")
	assert.Equal(t, "projectsettings", ps.Name)
	assert.Equal(t, "proj", ps.Namespace)
	require.NotNil(t, ps.Spec.GroupAccess, "the CRD requires groupAccess; nil would be sent as null")
	assert.Empty(t, ps.Spec.GroupAccess)
}

func TestControlledByNeedsKindNameAndUID(t *testing.T) {
	ps := settings()
	ours := BuildBinding(ps, v1alpha1.GroupAccess{GroupName: "devs", Role: "edit"})
	assert.True(t, controlledBy(ours, ps))

	unowned := ours.DeepCopy()
	unowned.OwnerReferences = nil
	assert.False(t, controlledBy(unowned, ps), "the label alone is not ownership")

	for name, edit := range map[string]func(*metav1.OwnerReference){
		"another uid":           func(r *metav1.OwnerReference) { r.UID = "earlier-ps" },
		"another kind":          func(r *metav1.OwnerReference) { r.Kind = "ConfigMap"; r.APIVersion = "v1" },
		"another name":          func(r *metav1.OwnerReference) { r.Name = "other" },
		"an owner, not control": func(r *metav1.OwnerReference) { r.Controller = nil },
	} {
		rb := ours.DeepCopy()
		edit(&rb.OwnerReferences[0])
		assert.False(t, controlledBy(rb, ps), name)
	}
}
