package archive_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

var managed = map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue}

const desiredRunning = v1alpha1.AnnotationDesiredPhase + "=Running"

// TestArchive: sessions leave the operator's cache when they end and come back
// on a restart request, with the webhook up or down; edited or deleted while
// archived; and the adoption pass over a namespace of history.
func TestArchive(t *testing.T) {
	dumpLogsOnFailure(t)
	const ns = "archive-e2e"
	s := newSuite(t, ns)
	t.Run("RestartWithTheWebhook", func(t *testing.T) { s.restartWithWebhook(t, ns) })
	t.Run("RestartWithTheWebhookDown", func(t *testing.T) { s.restartWithWebhookDown(t, ns) })
	t.Run("EditedWhileArchived", func(t *testing.T) { s.editedWhileArchived(t, ns) })
	t.Run("DeletedWhileArchived", func(t *testing.T) { s.deletedWhileArchived(t, ns) })
	t.Run("RestartWaitsForAManagedNamespace", func(t *testing.T) { s.restartWaitsForManaged(t, ns) })
	t.Run("Adoption", s.adoption)
}

func (s *suite) restartWithWebhook(t *testing.T, ns string) {
	const name = "comes-back"
	s.runStopArchive(t, ns, name)
	start := time.Now()
	stored := s.annotate(t, ns, name, desiredRunning)
	assert.NotContains(t, stored.Labels, v1alpha1.LabelArchived, "the webhook removed the label in the same write")
	s.waitRunningAgain(t, ns, name)
	t.Logf("restart request to Running again: %s (webhook up)", time.Since(start))
}

// restartWithWebhookDown: a restart request stored while the webhook is down
// (the session stays labelled archived) is acted on by the archive watch within
// 2 s of the write, with no pass (no LIST) involved.
func (s *suite) restartWithWebhookDown(t *testing.T, ns string) {
	const name = "swept-back"
	s.runStopArchive(t, ns, name)
	restored, before := counter(t, restoredTotal, "by", "watch"), passes(t)

	s.webhook.down.Store(true)
	start := time.Now()
	stored := s.annotate(t, ns, name, desiredRunning)
	s.webhook.down.Store(false)
	assert.Contains(t, stored.Labels, v1alpha1.LabelArchived, "the session webhook fails open: the write is stored still archived")

	unarchived := s.waitUnarchived(t, ns, name, start)
	s.waitRunningAgain(t, ns, name)
	t.Logf("restart request (webhook down) to unarchived: %s, to Running again: %s", unarchived, time.Since(start))
	assert.LessOrEqual(t, unarchived, 2*time.Second, "acted on within 2 s of the write")
	assert.Greater(t, counter(t, restoredTotal, "by", "watch"), restored, "the watch, not the webhook, brought it back")
	assert.Equal(t, before, passes(t), "no pass: the watch alone acted")
}

func (s *suite) editedWhileArchived(t *testing.T, ns string) {
	const name = "edited"
	s.runStopArchive(t, ns, name)
	modified := counter(t, eventsTotal, "type", "MODIFIED")
	out, _, err := s.env.Kubectl(context.Background(), nil, "-n", ns, "patch", "agenticsession", name, "--type=merge",
		"-p", `{"spec":{"initialPrompt":"a new prompt"}}`, "-o", "json")
	require.NoError(t, err)
	edited := decode(t, out)
	waitEvents(t, "MODIFIED", modified, 1)
	assert.Contains(t, edited.Labels, v1alpha1.LabelArchived, "an edit without a restart request keeps it archived")
	got := s.get(t, ns, name)
	assert.Contains(t, got.Labels, v1alpha1.LabelArchived, "still archived after the watch saw the edit")
	assert.Less(t, got.Status.ObservedGeneration, got.Generation, "nothing acted on the edit")

	s.annotate(t, ns, name, desiredRunning)
	s.waitRunningAgain(t, ns, name)
	pod := &corev1.Pod{}
	require.NoError(t, s.env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: v1alpha1.RunnerPodName(name)}, pod))
	assert.Contains(t, pod.Spec.Containers[0].Env, corev1.EnvVar{Name: "INITIAL_PROMPT", Value: "a new prompt"}, "the restart runs the edited spec")
	got = s.get(t, ns, name)
	assert.Equal(t, got.Generation, got.Status.ObservedGeneration)
}

// restartWaitsForManaged: a restart request on an archived session of a
// namespace that is no longer managed (no webhook sees it) is left alone by the
// watch, and acted on once the namespace is managed again, by a pass of that
// namespace alone that its becoming managed triggers.
func (s *suite) restartWaitsForManaged(t *testing.T, ns string) {
	const name = "unmanaged-restart"
	s.runStopArchive(t, ns, name)
	s.setManaged(t, ns, false)
	modified := counter(t, eventsTotal, "type", "MODIFIED")
	stored := s.annotate(t, ns, name, desiredRunning)
	assert.Contains(t, stored.Labels, v1alpha1.LabelArchived, "no webhook is called outside managed namespaces")
	waitEvents(t, "MODIFIED", modified, 1)
	got := s.get(t, ns, name)
	assert.Contains(t, got.Labels, v1alpha1.LabelArchived, "the watch writes nothing in a namespace that is not managed")
	assert.Equal(t, v1alpha1.PhaseStopped, got.Status.Phase)

	before, restored := passes(t), counter(t, restoredTotal, "by", "pass")
	s.setManaged(t, ns, true)
	s.waitRunningAgain(t, ns, name)
	after := passes(t)
	assert.Equal(t, before["namespace"]+1, after["namespace"], "one pass, of the namespace that became managed")
	assert.Equal(t, before["start"], after["start"])
	assert.Equal(t, before["expired"], after["expired"])
	assert.Equal(t, restored+1, counter(t, restoredTotal, "by", "pass"), "the namespace's pass brought it back")
}

// setManaged labels the namespace managed, or removes the label.
func (s *suite) setManaged(t *testing.T, ns string, managed bool) {
	t.Helper()
	label := v1alpha1.LabelManaged + "-"
	if managed {
		label = v1alpha1.LabelManaged + "=" + v1alpha1.ValueTrue
	}
	_, _, err := s.env.Kubectl(context.Background(), nil, "label", "namespace", ns, label, "--overwrite")
	require.NoError(t, err)
}

func (s *suite) deletedWhileArchived(t *testing.T, ns string) {
	const name = "deleted"
	s.runStopArchive(t, ns, name)
	deleted := counter(t, eventsTotal, "type", "DELETED")
	_, _, err := s.env.Kubectl(context.Background(), nil, "-n", ns, "delete", "agenticsession", name)
	require.NoError(t, err)
	waitEvents(t, "DELETED", deleted, 1)
	ctx := context.Background()
	key := client.ObjectKey{Namespace: ns, Name: name}
	assert.True(t, apierrors.IsNotFound(s.env.Client.Get(ctx, key, &v1alpha1.AgenticSession{})))
	for _, obj := range []client.Object{&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.RunnerPodName(name)}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.ServiceName(name)}}} {
		err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: obj.GetName()}, obj)
		assert.True(t, apierrors.IsNotFound(err), "%T %s: nothing was left to collect, nothing was recreated: %v", obj, obj.GetName(), err)
	}
}

// runStopArchive creates a session, lets the simulated kubelet run it, stops it
// and waits until it is archived and has left the operator's cache.
func (s *suite) runStopArchive(t *testing.T, ns, name string) {
	t.Helper()
	ctx := context.Background()
	sess := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.AgenticSessionSpec{InitialPrompt: "say hello"}}
	require.NoError(t, s.env.Client.Create(ctx, sess))
	testenv.Eventually(t, waitTimeout, name+" Running", s.phaseIs(ns, name, v1alpha1.PhaseRunning))
	s.annotate(t, ns, name, v1alpha1.AnnotationDesiredPhase+"=Stopped")
	testenv.Eventually(t, waitTimeout, name+" archived", func(ctx context.Context) error {
		got := &v1alpha1.AgenticSession{}
		if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, got); err != nil {
			return err
		}
		if got.Labels[v1alpha1.LabelArchived] != v1alpha1.ValueTrue {
			return fmt.Errorf("phase %s, labels %v", got.Status.Phase, got.Labels)
		}
		return nil
	})
	testenv.Eventually(t, waitTimeout, name+" left the operator's cache", s.inCache(ns, name, false))
	got := s.get(t, ns, name)
	assert.Equal(t, v1alpha1.PhaseStopped, got.Status.Phase, "the API server still has it, as it ended")
}

// waitRunningAgain waits for the restarted session to run, back in the cache.
func (s *suite) waitRunningAgain(t *testing.T, ns, name string) {
	t.Helper()
	testenv.Eventually(t, waitTimeout, name+" Running again", s.phaseIs(ns, name, v1alpha1.PhaseRunning))
	testenv.Eventually(t, waitTimeout, name+" back in the operator's cache", s.inCache(ns, name, true))
	got := s.get(t, ns, name)
	assert.NotContains(t, got.Labels, v1alpha1.LabelArchived)
	assert.NotContains(t, got.Annotations, v1alpha1.AnnotationDesiredPhase, "the request was acted on")
}

// annotate runs kubectl annotate --overwrite and returns the object it stored.
func (s *suite) annotate(t *testing.T, ns, name, kv string) *v1alpha1.AgenticSession {
	t.Helper()
	out, _, err := s.env.Kubectl(context.Background(), nil, "-n", ns, "annotate", "agenticsession", name, kv, "--overwrite", "-o", "json")
	require.NoError(t, err)
	return decode(t, out)
}

func (s *suite) get(t *testing.T, ns, name string) *v1alpha1.AgenticSession {
	t.Helper()
	got := &v1alpha1.AgenticSession{}
	require.NoError(t, s.env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, got))
	return got
}

func (s *suite) phaseIs(ns, name string, phase v1alpha1.Phase) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		got := &v1alpha1.AgenticSession{}
		if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, got); err != nil {
			return err
		}
		if got.Status.Phase != phase || got.Annotations[v1alpha1.AnnotationDesiredPhase] != "" {
			return fmt.Errorf("phase %q (annotations %v), want %q", got.Status.Phase, got.Annotations, phase)
		}
		return nil
	}
}

// inCache checks the operator's own cache (the manager's client reads
// sessions from it): NotFound there while the API server has the session is
// what archiving means.
func (s *suite) inCache(ns, name string, want bool) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		err := s.mgr.GetClient().Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &v1alpha1.AgenticSession{})
		switch {
		case want && err == nil, !want && apierrors.IsNotFound(err):
			return nil
		case err != nil && !apierrors.IsNotFound(err):
			return err
		}
		return fmt.Errorf("in the operator's cache: %v, want %v", err == nil, want)
	}
}

// waitUnarchived polls the API server until the session has lost the archived
// label and returns how long after start that was.
func (s *suite) waitUnarchived(t *testing.T, ns, name string, start time.Time) time.Duration {
	t.Helper()
	for deadline := start.Add(waitTimeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		got := &v1alpha1.AgenticSession{}
		err := s.env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, got)
		if err == nil && !v1alpha1.IsArchived(got.Labels) {
			return time.Since(start)
		}
	}
	require.FailNow(t, "still archived", "%s/%s after %s", ns, name, waitTimeout)
	return 0
}

func decode(t *testing.T, out string) *v1alpha1.AgenticSession {
	t.Helper()
	got := &v1alpha1.AgenticSession{}
	require.NoError(t, json.Unmarshal([]byte(out), got), "kubectl -o json: %s", out)
	if got.Name == "" {
		require.NoError(t, errors.New("kubectl printed no object"))
	}
	return got
}
