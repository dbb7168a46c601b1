// Package webhookload measures admission latency: an open-loop load generator that
// sends a realistic mix of AdmissionReviews over TLS at a fixed rate, a floor server
// that answers a constant review with the same TLS setup, and the CPU time each
// server process spent.
package webhookload

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/webhook"
)

// Review is one AdmissionReview request body and the path it goes to.
type Review struct {
	Kind string // "pod-mutate", "pod-validate" or "session-status"
	Path string
	Body []byte
}

// MixPattern is the share of each kind in a block of ten reviews: status writes
// dominate on the platform, pod creations come with a mutating and a validating call.
var MixPattern = []string{"session-status", "pod-mutate", "session-status", "pod-validate",
	"session-status", "session-status", "pod-mutate", "session-status", "pod-validate", "session-status"}

// Reviews builds n reviews in MixPattern order from the live objects of the cluster:
// runner pods (as created, server-set fields removed) and sessions whose status
// write appends two conditions that duplicate existing types, so the mutator has
// collapsing to do.
func Reviews(ctx context.Context, c client.Client, n int) ([]Review, error) {
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.MatchingLabels{v1alpha1.LabelRunner: v1alpha1.ValueTrue}, client.Limit(64)); err != nil {
		return nil, fmt.Errorf("listing runner pods: %w", err)
	}
	var sessions v1alpha1.AgenticSessionList
	if err := c.List(ctx, &sessions, client.Limit(64)); err != nil {
		return nil, fmt.Errorf("listing sessions: %w", err)
	}
	if len(pods.Items) == 0 || len(sessions.Items) == 0 {
		return nil, fmt.Errorf("need runner pods and sessions to build reviews, found %d and %d", len(pods.Items), len(sessions.Items))
	}
	out := make([]Review, 0, n)
	for i := range n {
		kind := MixPattern[i%len(MixPattern)]
		var (
			r   Review
			err error
		)
		switch kind {
		case "session-status":
			r, err = sessionReview(&sessions.Items[i%len(sessions.Items)], i)
		default:
			r, err = podReview(&pods.Items[i%len(pods.Items)], kind, i)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func podReview(stored *corev1.Pod, kind string, i int) (Review, error) {
	pod := stored.DeepCopy()
	pod.UID, pod.ResourceVersion, pod.CreationTimestamp, pod.Status = "", "", metav1.Time{}, corev1.PodStatus{}
	path := webhook.PathValidatePod
	if kind == "pod-mutate" {
		path = webhook.PathMutatePod
		// As the platform creates them: the two platform labels, not ours yet.
		delete(pod.Labels, v1alpha1.LabelRunner)
	}
	req := baseRequest(i, admissionv1.Create, "pods", "", pod.Namespace, pod.Name)
	req.Kind = metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}
	req.RequestKind = &req.Kind
	return encode(kind, path, req, pod, nil)
}

func sessionReview(stored *v1alpha1.AgenticSession, i int) (Review, error) {
	old := stored.DeepCopy()
	obj := stored.DeepCopy()
	now := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, i%60, 0, time.UTC))
	// Ten entries: the eight platform types, then two new entries for types already
	// present, as the platform's append-style writer leaves them.
	obj.Status.Conditions = append(obj.Status.Conditions[:min(8, len(obj.Status.Conditions))],
		v1alpha1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Running", Message: "runner is up", LastTransitionTime: &now},
		v1alpha1.Condition{Type: "RunnerStarted", Status: metav1.ConditionTrue, Reason: "ContainerRunning", LastTransitionTime: &now})
	req := baseRequest(i, admissionv1.Update, "agenticsessions", "status", obj.Namespace, obj.Name)
	req.Kind = metav1.GroupVersionKind{Group: v1alpha1.GroupVersion.Group, Version: v1alpha1.GroupVersion.Version, Kind: v1alpha1.KindAgenticSession}
	req.RequestKind = &req.Kind
	req.Resource.Group, req.Resource.Version = v1alpha1.GroupVersion.Group, v1alpha1.GroupVersion.Version
	req.RequestResource = &req.Resource
	return encode("session-status", webhook.PathMutateSession, req, obj, old)
}

func baseRequest(i int, op admissionv1.Operation, resource, sub, ns, name string) *admissionv1.AdmissionRequest {
	return &admissionv1.AdmissionRequest{
		UID:         types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", i)),
		Resource:    metav1.GroupVersionResource{Version: "v1", Resource: resource},
		SubResource: sub, RequestSubResource: sub,
		Name: name, Namespace: ns, Operation: op, DryRun: new(false),
		UserInfo: authenticationv1.UserInfo{Username: "system:serviceaccount:ambient-code:agentic-operator",
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ambient-code", "system:authenticated"}},
	}
}

func encode(kind, path string, req *admissionv1.AdmissionRequest, obj, old runtime.Object) (Review, error) {
	var err error
	if req.Object.Raw, err = json.Marshal(obj); err != nil {
		return Review{}, err
	}
	if old != nil {
		if req.OldObject.Raw, err = json.Marshal(old); err != nil {
			return Review{}, err
		}
	}
	body, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Request: req})
	if err != nil {
		return Review{}, err
	}
	return Review{Kind: kind, Path: path, Body: body}, nil
}
