package heap

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	opcache "github.com/ambient-code/agentic-operator/operator/cache"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// Scoped is the operator's cache options without archiving: the cache scope's step on its
// own (typed, stripped, slim runner pods and managed namespaces by label)
// with every session cached, and no reconcilers. It shows what scoping and typing
// save before archiving takes the history out of the cache.
const Scoped = "scoped"

func init() {
	Register(Configuration{
		Name: Scoped,
		Description: "operator/cache's options with the archived-session selector removed, cache only: typed sessions " +
			"and ProjectSettings without managedFields, slim runner pods and managed namespaces by label, every session",
		Start: startScoped,
	})
}

func startScoped(ctx context.Context, cfg *rest.Config) (Running, error) {
	opts := opcache.Options(testenv.NewScheme(), opcache.Scope{})
	for obj, by := range opts.ByObject {
		if _, ok := obj.(*v1alpha1.AgenticSession); ok {
			by.Label = nil
			opts.ByObject[obj] = by
		}
	}
	c, err := cache.New(cfg, opts)
	if err != nil {
		return Running{}, fmt.Errorf("building scoped cache: %w", err)
	}
	objs := []client.Object{&v1alpha1.AgenticSession{}, &v1alpha1.ProjectSettings{}, &corev1.Pod{}, &corev1.Namespace{}}
	for _, o := range objs {
		if _, err := c.GetInformer(ctx, o); err != nil {
			return Running{}, fmt.Errorf("scoped informer for %T: %w", o, err)
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return Running{}, fmt.Errorf("scoped cache did not sync: %w", ctx.Err())
	}
	lists := map[string]client.ObjectList{
		"AgenticSession": &v1alpha1.AgenticSessionList{}, "ProjectSettings": &v1alpha1.ProjectSettingsList{},
		"Pod": &corev1.PodList{}, "Namespace": &corev1.NamespaceList{},
	}
	return Running{Objects: func(ctx context.Context) (map[string]int, error) { return CountLists(ctx, c, lists) }}, nil
}
