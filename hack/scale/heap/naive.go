package heap

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// Naive is the configuration the audit describes, what the platform's operator
// caches: unstructured AgenticSessions and ProjectSettings in every namespace, every
// Pod and every Namespace, no selectors and no transforms.
const Naive = "naive"

func init() {
	Register(Configuration{
		Name: Naive,
		Description: "controller-runtime cache, cluster-wide, no selectors, no transforms: unstructured " +
			"AgenticSessions and ProjectSettings, typed Pods and Namespaces (the audited operator's shape)",
		Start: startNaive,
	})
}

func startNaive(ctx context.Context, cfg *rest.Config) (Running, error) {
	c, err := cache.New(cfg, cache.Options{Scheme: testenv.NewScheme()})
	if err != nil {
		return Running{}, fmt.Errorf("building naive cache: %w", err)
	}
	lists := map[string]client.ObjectList{
		"AgenticSession":  unstructuredList(v1alpha1.KindAgenticSession),
		"ProjectSettings": unstructuredList(v1alpha1.KindProjectSettings),
		"Pod":             &corev1.PodList{},
		"Namespace":       &corev1.NamespaceList{},
	}
	// Informers for sessions and settings are unstructured, as the platform's
	// dynamic client and unstructured controller hold them; pods and namespaces typed.
	objs := []client.Object{unstructuredObject(v1alpha1.KindAgenticSession),
		unstructuredObject(v1alpha1.KindProjectSettings), &corev1.Pod{}, &corev1.Namespace{}}
	for _, o := range objs {
		if _, err := c.GetInformer(ctx, o); err != nil {
			return Running{}, fmt.Errorf("naive informer for %T: %w", o, err)
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return Running{}, fmt.Errorf("naive cache did not sync: %w", ctx.Err())
	}
	return Running{Objects: func(ctx context.Context) (map[string]int, error) { return CountLists(ctx, c, lists) }}, nil
}

// CountLists lists each kind from reader (a cache) and counts the items.
func CountLists(ctx context.Context, reader client.Reader, lists map[string]client.ObjectList) (map[string]int, error) {
	out := make(map[string]int, len(lists))
	for kind, l := range lists {
		if err := reader.List(ctx, l); err != nil {
			return nil, fmt.Errorf("counting cached %s: %w", kind, err)
		}
		out[kind] = meta.LenList(l)
	}
	return out, nil
}

func unstructuredObject(kind string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(kind))
	return u
}

func unstructuredList(kind string) *unstructured.UnstructuredList {
	u := &unstructured.UnstructuredList{}
	u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(kind + "List"))
	return u
}
