package cache

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// The shape of a hostile pod: anyone who may create pods, in any namespace (the
// webhook sees only managed ones), can label one ambient-code.io/runner=true and
// so put it in the operator's pod cache, with as much else as the API server
// takes.
const (
	fillerLabels     = 2000
	fillerOwners     = 100
	fillerFinalizers = 100
)

// foreignPod builds hostile pod i: the runner label, fillerLabels labels of the
// longest value a label takes, ownerReferences and finalizers, and a large
// annotation. Its status is empty: nobody runs it, and a create cannot set one.
func foreignPod(i int) *corev1.Pod {
	labels := make(map[string]string, fillerLabels+1)
	for j := range fillerLabels {
		labels[fmt.Sprintf("filler.example.com/label-%04d", j)] = strings.Repeat("v", 63)
	}
	labels[v1alpha1.LabelRunner] = v1alpha1.ValueTrue
	owners := make([]metav1.OwnerReference, fillerOwners)
	for j := range owners {
		owners[j] = metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: fmt.Sprintf("owner-%04d", j), UID: types.UID(fmt.Sprintf("uid-%04d", j))}
	}
	finalizers := make([]string, fillerFinalizers)
	for j := range finalizers {
		finalizers[j] = fmt.Sprintf("filler.example.com/finalizer-%04d", j)
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("hostile-%04d", i), Namespace: "elsewhere", UID: types.UID(fmt.Sprintf("pod-uid-%04d", i)), ResourceVersion: "1",
			Labels: labels, OwnerReferences: owners, Finalizers: finalizers,
			Annotations: map[string]string{"filler.example.com/blob": strings.Repeat("x", 64<<10)},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: v1alpha1.RunnerContainerName, Image: "busybox"}}},
	}
}

// TestAForeignPodCostsAFewHundredBytes: whatever a foreign runner-labelled pod
// carries, the cache keeps its identity and the runner label. The size is the
// pod's protobuf encoding, a stable stand-in for what the cache holds (the heap
// figure is BenchmarkForeignPodInCache's).
func TestAForeignPodCostsAFewHundredBytes(t *testing.T) {
	pod := foreignPod(0)
	decoded := pod.Size()
	out, err := SlimPod(pod)
	require.NoError(t, err)
	slim := out.(*corev1.Pod)
	t.Logf("foreign pod with %d filler labels, %d ownerReferences, %d finalizers: %d bytes decoded, %d bytes kept by SlimPod",
		fillerLabels, fillerOwners, fillerFinalizers, decoded, slim.Size())
	assert.LessOrEqual(t, slim.Size(), 256, "identity and one label")
	assert.Equal(t, map[string]string{v1alpha1.LabelRunner: v1alpha1.ValueTrue}, slim.Labels)
	assert.Nil(t, slim.OwnerReferences, "none of them is a controller")
	assert.Nil(t, slim.Finalizers)
	assert.Nil(t, slim.Annotations)
}

// foreignPodsPerRun bounds the benchmark's memory: the decoded case holds about
// 0.5 MB of Go heap per pod.
const foreignPodsPerRun = 50

// BenchmarkForeignPodInCache reports the Go heap each foreign pod keeps alive
// once in the cache, decoded whole and after SlimPod:
//
//	go test -run '^$' -bench ForeignPodInCache -benchtime 3x ./operator/cache
func BenchmarkForeignPodInCache(b *testing.B) {
	for _, c := range []struct {
		name      string
		transform func(any) (any, error)
	}{
		{"decoded", func(o any) (any, error) { return o, nil }},
		{"SlimPod", SlimPod},
	} {
		b.Run(c.name, func(b *testing.B) {
			var perPod int64
			for b.Loop() {
				perPod = retainedHeap(b, foreignPodsPerRun, c.transform)
			}
			b.ReportMetric(float64(perPod), "heap-B/pod")
		})
	}
}

// retainedHeap returns the heap, in bytes per pod, that n transformed foreign
// pods keep alive after a collection.
func retainedHeap(b *testing.B, n int, transform func(any) (any, error)) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	kept := make([]any, n)
	for i := range kept {
		out, err := transform(foreignPod(i))
		if err != nil {
			b.Fatal(err)
		}
		kept[i] = out
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(kept)
	return (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / int64(n)
}
