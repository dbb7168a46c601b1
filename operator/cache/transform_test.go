package cache

import (
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/session"
)

var managedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}

// sessionRef is the controller reference the operator puts on runner pods.
var sessionRef = metav1.OwnerReference{APIVersion: "vteam.ambient-code/v1alpha1", Kind: "AgenticSession", Name: "s", UID: "s-uid",
	Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}

func runnerPod() *corev1.Pod {
	now := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "s-runner", Namespace: "proj", UID: "pod-uid", ResourceVersion: "42",
			GenerateName:      "s-",
			CreationTimestamp: now,
			Labels:            map[string]string{v1alpha1.LabelRunner: v1alpha1.ValueTrue, v1alpha1.LabelSession: "s", v1alpha1.LabelApp: v1alpha1.RunnerAppName, "team": "a"},
			Annotations:       map[string]string{"openshift.io/scc": "restricted-v2"},
			OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "v1", Kind: "ConfigMap", Name: "other", UID: "cm-uid"},
				sessionRef,
			},
			Finalizers:        []string{"example.com/hold"},
			DeletionTimestamp: &now,
			ManagedFields:     managedFields,
		},
		Spec: corev1.PodSpec{
			NodeName:   "worker-1",
			Containers: []corev1.Container{{Name: v1alpha1.RunnerContainerName, Image: "runner", Env: []corev1.EnvVar{{Name: "PROMPT", Value: "a long prompt"}}}},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodFailed, Reason: "Evicted", Message: "low on memory", PodIP: "10.0.0.1", HostIP: "192.0.2.1",
			QOSClass: corev1.PodQOSBurstable, StartTime: &now,
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: now},
				{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/3 nodes", LastTransitionTime: now},
			},
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "sidecar", Image: "sidecar", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}},
				{Name: v1alpha1.RunnerContainerName, Image: "runner", ImageID: "sha256:abc", ContainerID: "cri-o://abc", RestartCount: 2,
					State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error", Message: "boom"}}},
			},
		},
	}
}

func TestSlimPodKeepsWhatTheSessionReconcilerReads(t *testing.T) {
	pod := runnerPod()
	before := session.Observe(pod.DeepCopy())

	out, err := SlimPod(pod)
	require.NoError(t, err)
	slim := out.(*corev1.Pod)

	assert.Equal(t, before, session.Observe(slim), "the reconciler sees the same pod state")
	assert.Equal(t, "s-runner", slim.Name)
	assert.Equal(t, "proj", slim.Namespace)
	assert.EqualValues(t, "pod-uid", slim.UID, "deletes carry a UID precondition")
	assert.Equal(t, "42", slim.ResourceVersion)
	assert.Equal(t, []metav1.OwnerReference{sessionRef}, slim.OwnerReferences, "Owns and IsControlledBy read the controller reference, and only it")
	assert.True(t, metav1.IsControlledBy(slim, &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{UID: "s-uid"}}))
	assert.Equal(t, v1alpha1.RunnerLabels("s"), slim.Labels, "the three runner labels, no other")
	assert.NotNil(t, slim.DeletionTimestamp)
	assert.Equal(t, corev1.PodFailed, slim.Status.Phase)
	assert.Equal(t, "Evicted", slim.Status.Reason)
	assert.Equal(t, "low on memory", slim.Status.Message)

	// Dropped: nothing reads them.
	assert.Nil(t, slim.ManagedFields)
	assert.Nil(t, slim.Annotations)
	assert.Nil(t, slim.Finalizers)
	assert.Empty(t, slim.GenerateName)
	assert.True(t, slim.CreationTimestamp.IsZero())
	assert.Equal(t, corev1.PodSpec{}, slim.Spec)
	assert.Empty(t, slim.Status.PodIP)
	assert.Empty(t, slim.Status.HostIP)
	assert.Empty(t, slim.Status.QOSClass)
	assert.Nil(t, slim.Status.StartTime)
	assert.Equal(t, []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/3 nodes"}},
		slim.Status.Conditions, "only PodScheduled, without times")
	assert.Equal(t, []corev1.ContainerStatus{{Name: v1alpha1.RunnerContainerName, State: runnerPod().Status.ContainerStatuses[1].State}},
		slim.Status.ContainerStatuses, "only the runner container, only its state")

	again, err := SlimPod(slim.DeepCopy())
	require.NoError(t, err)
	assert.Equal(t, slim, again, "idempotent, as client-go asks of transforms")
}

func TestSlimPodObservesEveryState(t *testing.T) {
	states := map[string]func(*corev1.Pod){
		"running": func(p *corev1.Pod) {
			p.Status.ContainerStatuses[1].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
		},
		"waiting": func(p *corev1.Pod) {
			p.Status.ContainerStatuses[1].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "no such image"}}
		},
		"succeeded": func(p *corev1.Pod) {
			p.Status.ContainerStatuses = nil
			p.Status.Phase = corev1.PodSucceeded
		},
		"scheduled": func(p *corev1.Pod) {
			p.Status.ContainerStatuses, p.Status.Phase = nil, corev1.PodPending
			p.Status.Conditions[1].Status = corev1.ConditionTrue
		},
	}
	for name, mutate := range states {
		t.Run(name, func(t *testing.T) {
			pod := runnerPod()
			pod.DeletionTimestamp = nil
			mutate(pod)
			want := session.Observe(pod.DeepCopy())
			out, err := SlimPod(pod)
			require.NoError(t, err)
			assert.Equal(t, want, session.Observe(out.(*corev1.Pod)))
		})
	}
}

func TestSlimNamespaceKeepsIdentityAndPhase(t *testing.T) {
	ns := &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{
			Name: "proj", UID: "ns-uid", ResourceVersion: "7",
			Labels:        map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue},
			Annotations:   map[string]string{"openshift.io/display-name": "Project", LastAppliedAnnotation: "{}"},
			ManagedFields: managedFields,
		},
		Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating,
			Conditions: []corev1.NamespaceCondition{{Type: corev1.NamespaceDeletionContentFailure, Status: corev1.ConditionTrue}}},
	}
	out, err := SlimNamespace(ns)
	require.NoError(t, err)
	assert.Equal(t, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "proj", UID: "ns-uid", ResourceVersion: "7"},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating},
	}, out)
}

func TestSlimProjectSettingsKeepsWhatTheReconcilersRead(t *testing.T) {
	timeout := 3600
	deleting := metav1.NewTime(time.Unix(1700000000, 0))
	ps := &v1alpha1.ProjectSettings{
		TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "ProjectSettings"},
		ObjectMeta: metav1.ObjectMeta{
			Name: strings.Clone(v1alpha1.ProjectSettingsName), Namespace: strings.Clone("proj"), UID: "ps-uid", ResourceVersion: "9", Generation: 3,
			CreationTimestamp: metav1.NewTime(time.Unix(1600000000, 0)), DeletionTimestamp: &deleting,
			Labels:          map[string]string{"app": "backend"},
			Annotations:     map[string]string{"ambient-code.io/created-by": "alice", LastAppliedAnnotation: "{}"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Namespace", Name: "proj", UID: "ns-uid"}},
			Finalizers:      []string{"example.com/keep"},
			ManagedFields:   managedFields,
		},
		Spec: v1alpha1.ProjectSettingsSpec{
			GroupAccess:              []v1alpha1.GroupAccess{{GroupName: "devs", Role: "edit"}},
			RunnerSecretsName:        "ambient-runner-secrets",
			Repositories:             []v1alpha1.ProjectRepository{{URL: "https://github.com/example/repo.git", Branch: "main", Provider: "github"}},
			InactivityTimeoutSeconds: &timeout,
			MCPServers:               &v1alpha1.MCPServers{Disabled: []string{"github"}},
		},
		Status: v1alpha1.ProjectSettingsStatus{GroupBindingsCreated: 1, LimitRangeReady: ptr.To(true), ScheduledSessionRBACReady: ptr.To(false)},
	}
	out, err := SlimProjectSettings(ps)
	require.NoError(t, err)
	assert.Equal(t, &v1alpha1.ProjectSettings{
		TypeMeta: ps.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.ProjectSettingsName, Namespace: "proj", UID: "ps-uid", ResourceVersion: "9", Generation: 3,
			CreationTimestamp: ps.CreationTimestamp, DeletionTimestamp: &deleting},
		Spec:   v1alpha1.ProjectSettingsSpec{GroupAccess: ps.Spec.GroupAccess, InactivityTimeoutSeconds: &timeout, MCPServers: ps.Spec.MCPServers},
		Status: ps.Status,
	}, out)
	slim := out.(*v1alpha1.ProjectSettings)
	assert.Same(t, unsafe.StringData(Intern("proj")), unsafe.StringData(slim.Namespace), "the namespace is the interned copy")
	assert.NotSame(t, unsafe.StringData(ps.Name), unsafe.StringData(slim.Name), "the name is the constant, not the decoded string")

	again, err := SlimProjectSettings(slim)
	require.NoError(t, err)
	assert.Equal(t, slim, again, "idempotent, as client-go asks of a transform")

	// Not a ProjectSettings: stripped as any other object.
	pod, err := SlimProjectSettings(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{ManagedFields: managedFields}})
	require.NoError(t, err)
	assert.Nil(t, pod.(*corev1.Pod).ManagedFields)
}

func TestStripObjectDropsManagedFieldsAndLastApplied(t *testing.T) {
	s := &v1alpha1.AgenticSession{
		ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "proj", ManagedFields: managedFields,
			Annotations: map[string]string{LastAppliedAnnotation: `{"spec":{}}`, v1alpha1.AnnotationDesiredPhase: "Running"}},
		Spec: v1alpha1.AgenticSessionSpec{InitialPrompt: "keep me"},
	}
	out, err := StripObject(s)
	require.NoError(t, err)
	got := out.(*v1alpha1.AgenticSession)
	assert.Nil(t, got.ManagedFields)
	assert.Equal(t, map[string]string{v1alpha1.AnnotationDesiredPhase: "Running"}, got.Annotations, "other annotations stay")
	assert.Equal(t, "keep me", got.Spec.InitialPrompt, "spec untouched")

	ps := &v1alpha1.ProjectSettings{ObjectMeta: metav1.ObjectMeta{Name: "ps", Annotations: map[string]string{LastAppliedAnnotation: "{}"}}}
	out, err = StripObject(ps)
	require.NoError(t, err)
	assert.Nil(t, out.(*v1alpha1.ProjectSettings).Annotations, "an emptied map is dropped")

	// Not an object (client-go never passes one, but a transform must not fail on it).
	out, err = StripObject("not an object")
	require.NoError(t, err)
	assert.Equal(t, "not an object", out)
}

func TestOptionsUseTheSlimTransforms(t *testing.T) {
	opts := Options(nil, Scope{})
	for obj, by := range opts.ByObject {
		switch obj.(type) {
		case *corev1.Pod, *corev1.Namespace, *corev1.Service, *v1alpha1.ProjectSettings:
			assert.NotNil(t, by.Transform, "%T has its own transform", obj)
		default:
			assert.Nil(t, by.Transform, "%T falls back to the default transform", obj)
		}
	}
	out, err := opts.DefaultTransform(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{ManagedFields: managedFields}})
	require.NoError(t, err)
	assert.Nil(t, out.(*corev1.Pod).ManagedFields)
}

func TestSlimPodKeepsNoStatusOfAPodNoSessionControls(t *testing.T) {
	for name, refs := range map[string][]metav1.OwnerReference{
		"no owner":                        nil,
		"an owner that is not controller": {{APIVersion: sessionRef.APIVersion, Kind: sessionRef.Kind, Name: "s", UID: "s-uid"}},
		"a controller of another kind":    {{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "rs-uid", Controller: ptr.To(true)}},
		"a controller of another group":   {{APIVersion: "example.com/v1", Kind: "AgenticSession", Name: "s", UID: "s-uid", Controller: ptr.To(true)}},
	} {
		t.Run(name, func(t *testing.T) {
			pod := runnerPod()
			pod.OwnerReferences = refs
			out, err := SlimPod(pod)
			require.NoError(t, err)
			slim := out.(*corev1.Pod)
			assert.Equal(t, corev1.PodStatus{}, slim.Status, "the reconciler reads the status only of a pod its session controls")
			assert.Equal(t, v1alpha1.RunnerLabels("s"), slim.Labels)
			if ref := metav1.GetControllerOf(pod); ref != nil {
				assert.Equal(t, []metav1.OwnerReference{*ref}, slim.OwnerReferences, "PodNameConflict reads who controls it")
			} else {
				assert.Nil(t, slim.OwnerReferences)
			}
		})
	}
	// A later version of the session API still counts as a session.
	pod := runnerPod()
	pod.OwnerReferences[1].APIVersion = "vteam.ambient-code/v1beta1"
	out, err := SlimPod(pod)
	require.NoError(t, err)
	assert.Equal(t, corev1.PodFailed, out.(*corev1.Pod).Status.Phase)
}

func TestSlimPodWithoutRunnerLabelsHasNoLabelMap(t *testing.T) {
	pod := runnerPod()
	pod.Labels = map[string]string{"only": "filler"}
	out, err := SlimPod(pod)
	require.NoError(t, err)
	assert.Nil(t, out.(*corev1.Pod).Labels)
}

func TestOwnerOnlyKeepsIdentityAndController(t *testing.T) {
	ctrl, other := true, false
	owner := metav1.OwnerReference{APIVersion: "vteam.ambient-code/v1alpha1", Kind: "AgenticSession", Name: "s", UID: "u1", Controller: &ctrl}
	meta := metav1.ObjectMeta{Name: "session-s", Namespace: "ns", UID: "u2", ResourceVersion: "7",
		Labels: map[string]string{"app": "ambient-code-runner", "filler": "x"}, Annotations: map[string]string{"a": "b"},
		Finalizers: []string{"f"}, OwnerReferences: []metav1.OwnerReference{{Kind: "Other", Name: "o", Controller: &other}, owner}}
	want := metav1.ObjectMeta{Name: "session-s", Namespace: "ns", UID: "u2", ResourceVersion: "7",
		OwnerReferences: []metav1.OwnerReference{owner}}

	svc, err := OwnerOnly(&corev1.Service{ObjectMeta: meta, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "evil.example"}})
	require.NoError(t, err)
	assert.Equal(t, &corev1.Service{ObjectMeta: want}, svc, "labels, annotations, finalizers, other owners and the spec go")

	again, err := OwnerOnly(svc)
	require.NoError(t, err)
	assert.Equal(t, svc, again, "idempotent, as client-go asks of a transform")

	// Another kind falls back to StripObject.
	out, err := OwnerOnly(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", ManagedFields: managedFields}, Data: map[string]string{"k": "v"}})
	require.NoError(t, err)
	assert.Equal(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Data: map[string]string{"k": "v"}}, out)
}
