package operator_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/project"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

func (s *suite) settings(ctx context.Context, ns string) (*v1alpha1.ProjectSettings, error) {
	ps := &v1alpha1.ProjectSettings{}
	return ps, s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.ProjectSettingsName}, ps)
}

// bindingsAre waits for the labelled RoleBindings in ns to be exactly names and
// for status.groupBindingsCreated to count them.
func (s *suite) bindingsAre(ns string, names ...string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		var list rbacv1.RoleBindingList
		if err := s.env.Client.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{v1alpha1.LabelGroupAccess: "true"}); err != nil {
			return err
		}
		var got []string
		for _, rb := range list.Items {
			got = append(got, rb.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, names) {
			return fmt.Errorf("RoleBindings %v, want %v", got, names)
		}
		ps, err := s.settings(ctx, ns)
		if err != nil {
			return err
		}
		if ps.Status.GroupBindingsCreated != len(names) {
			return fmt.Errorf("groupBindingsCreated %d, want %d", ps.Status.GroupBindingsCreated, len(names))
		}
		return nil
	}
}

func (s *suite) projects(t *testing.T) {
	ctx := context.Background()

	t.Run("a managed namespace gets a default ProjectSettings, an unmanaged one none", func(t *testing.T) {
		s.env.CreateNamespace(t, "project-managed", map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
		s.env.CreateNamespace(t, "project-unmanaged", nil)
		testenv.Eventually(t, waitTimeout, "default ProjectSettings", func(ctx context.Context) error {
			_, err := s.settings(ctx, "project-managed")
			return err
		})
		ps, err := s.settings(ctx, "project-managed")
		require.NoError(t, err)
		assert.NotNil(t, ps.Spec.GroupAccess)
		assert.Empty(t, ps.Spec.GroupAccess)

		// Labelling a namespace later provisions it too.
		_, err = s.settings(ctx, "project-unmanaged")
		require.Error(t, err)
		ns := &corev1.Namespace{}
		require.NoError(t, s.env.Client.Get(ctx, client.ObjectKey{Name: "project-unmanaged"}, ns))
		patched := ns.DeepCopy()
		patched.Labels = map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue}
		require.NoError(t, s.env.Client.Patch(ctx, patched, client.MergeFrom(ns)))
		testenv.Eventually(t, waitTimeout, "ProjectSettings after labelling", func(ctx context.Context) error {
			_, err := s.settings(ctx, "project-unmanaged")
			return err
		})

		// A deleted default comes back.
		require.NoError(t, s.env.Client.Delete(ctx, ps))
		testenv.Eventually(t, waitTimeout, "ProjectSettings recreated", func(ctx context.Context) error {
			got, err := s.settings(ctx, "project-managed")
			if err != nil {
				return err
			}
			if got.UID == ps.UID {
				return fmt.Errorf("still the deleted one")
			}
			return nil
		})
	})

	t.Run("a managed project gets the platform's default container limits", func(t *testing.T) {
		const ns = "project-limits"
		s.managedProject(t, ns)
		lr := &corev1.LimitRange{}
		testenv.Eventually(t, waitTimeout, "LimitRange", func(ctx context.Context) error {
			return s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: project.LimitRangeName}, lr)
		})
		require.Len(t, lr.Spec.Limits, 1)
		item := lr.Spec.Limits[0]
		assert.Equal(t, corev1.LimitTypeContainer, item.Type)
		assert.Equal(t, "250m", item.DefaultRequest.Cpu().String())
		assert.Equal(t, "256Mi", item.DefaultRequest.Memory().String())
		assert.Equal(t, "2", item.Default.Cpu().String())
		assert.Equal(t, "4Gi", item.Default.Memory().String())
		ps, err := s.settings(ctx, ns)
		require.NoError(t, err)
		assert.True(t, metav1.IsControlledBy(lr, ps), "goes with the ProjectSettings")
		testenv.Eventually(t, waitTimeout, "status.limitRangeReady", func(ctx context.Context) error {
			ps, err := s.settings(ctx, ns)
			if err != nil {
				return err
			}
			if ps.Status.LimitRangeReady == nil || !*ps.Status.LimitRangeReady {
				return fmt.Errorf("limitRangeReady %v", ps.Status.LimitRangeReady)
			}
			return nil
		})
	})

	t.Run("groupAccess entries become RoleBindings and removed ones are cleaned up", func(t *testing.T) {
		const ns = "project-rbac"
		setAccess := s.managedProject(t, ns)

		setAccess(v1alpha1.GroupAccess{GroupName: "devs", Role: "edit"}, v1alpha1.GroupAccess{GroupName: "ops", Role: "view"})
		testenv.Eventually(t, waitTimeout, "two bindings", s.bindingsAre(ns, "devs-edit", "ops-view"))
		rb := &rbacv1.RoleBinding{}
		require.NoError(t, s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "devs-edit"}, rb))
		assert.Equal(t, "ambient-project-edit", rb.RoleRef.Name)
		assert.Equal(t, []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "devs"}}, rb.Subjects)

		setAccess(v1alpha1.GroupAccess{GroupName: "ops", Role: "admin"})
		testenv.Eventually(t, waitTimeout, "the removed entries' bindings deleted", s.bindingsAre(ns, "ops-admin"))

		setAccess()
		testenv.Eventually(t, waitTimeout, "no bindings", s.bindingsAre(ns))
	})

	t.Run("a binding it controls is repaired: subjects edited, label removed", func(t *testing.T) {
		const ns = "project-repair"
		setAccess := s.managedProject(t, ns)
		devs := v1alpha1.GroupAccess{GroupName: "devs", Role: "edit"}
		want := []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "devs"}}
		setAccess(devs)
		testenv.Eventually(t, waitTimeout, "the binding", s.bindingsAre(ns, "devs-edit"))
		tamper := func(edit func(*rbacv1.RoleBinding)) {
			rb := &rbacv1.RoleBinding{}
			require.NoError(t, s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "devs-edit"}, rb))
			patched := rb.DeepCopy()
			edit(patched)
			require.NoError(t, s.env.Client.Patch(ctx, patched, client.MergeFrom(rb)))
		}
		repaired := func(ctx context.Context) error {
			rb := &rbacv1.RoleBinding{}
			if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "devs-edit"}, rb); err != nil {
				return err
			}
			if rb.Labels[v1alpha1.LabelGroupAccess] != v1alpha1.ValueTrue || !equality.Semantic.DeepEqual(rb.Subjects, want) {
				return fmt.Errorf("binding not repaired: labels %v, subjects %v", rb.Labels, rb.Subjects)
			}
			return nil
		}
		intruder := []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "everyone"}}

		// The binding is found by its label and its subjects put back.
		tamper(func(rb *rbacv1.RoleBinding) { rb.Subjects = intruder })
		setAccess(devs, v1alpha1.GroupAccess{GroupName: "ops", Role: "view"}) // a change that reconciles the project
		testenv.Eventually(t, waitTimeout, "subjects repaired", repaired)

		// Unlabelled, it is found by name, and relabelled because the project controls it.
		tamper(func(rb *rbacv1.RoleBinding) { delete(rb.Labels, v1alpha1.LabelGroupAccess); rb.Subjects = intruder })
		setAccess(devs)
		testenv.Eventually(t, waitTimeout, "label and subjects repaired", repaired)
		testenv.Eventually(t, waitTimeout, "the removed entry's binding deleted", s.bindingsAre(ns, "devs-edit"))
	})
}

// managedProject creates managed namespace ns, waits for the ProjectSettings the
// operator gives it, and returns a function that sets its groupAccess list.
func (s *suite) managedProject(t *testing.T, ns string) func(entries ...v1alpha1.GroupAccess) {
	t.Helper()
	s.env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	testenv.Eventually(t, waitTimeout, "default ProjectSettings", func(ctx context.Context) error {
		_, err := s.settings(ctx, ns)
		return err
	})
	return func(entries ...v1alpha1.GroupAccess) {
		t.Helper()
		ctx := context.Background()
		ps, err := s.settings(ctx, ns)
		require.NoError(t, err)
		patched := ps.DeepCopy()
		patched.Spec.GroupAccess = append([]v1alpha1.GroupAccess{}, entries...)
		require.NoError(t, s.env.Client.Patch(ctx, patched, client.MergeFrom(ps)))
	}
}
