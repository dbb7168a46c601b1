package viaapi

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/hack/scale/cluster"
	"github.com/ambient-code/agentic-operator/hack/scale/profile"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// admissionMetric is the API server's histogram of time spent calling each webhook.
const admissionMetric = "apiserver_admission_webhook_admission_duration_seconds"

// Creation is what creating runner pods cost, seen by the client and by the API
// server's admission histogram.
type Creation struct {
	Pods int
	// ClientP50/P99/Max are the create round trips, in seconds.
	ClientP50, ClientP99, ClientMax float64
	// Webhooks is the API server's admission histogram by webhook name (empty
	// without webhooks).
	Webhooks map[string]WebhookLatency `json:",omitempty"`
	// Rejected counts admission webhook rejections the API server recorded.
	Rejected float64
}

// WebhookLatency summarises one webhook's admission histogram delta, in seconds.
// The API server's buckets start at 5 ms, so below that only the mean (sum/count)
// is exact; quantiles are given as the bucket bound that holds them.
type WebhookLatency struct {
	Calls float64
	Mean  float64
	// P50Bound and P99Bound are the upper bounds of the buckets holding p50 and p99.
	P50Bound, P99Bound float64
	// FirstBound is the lowest bucket bound and FirstShare the share of calls in it.
	FirstBound, FirstShare float64
}

// CreateRunnerPods creates one runner pod for each of sessions (as the operator
// would: all three labels, controlled by the session), concurrency at a time.
func CreateRunnerPods(ctx context.Context, cfg *rest.Config, core kubernetes.Interface, c client.Client, sessions []client.ObjectKey, concurrency int) (Creation, error) {
	before, err := cluster.Scrape(ctx, cfg)
	if err != nil {
		return Creation{}, err
	}
	lat := make([]time.Duration, len(sessions))
	errs := make(chan error, len(sessions))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for n, key := range sessions {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s := &v1alpha1.AgenticSession{}
			if err := c.Get(ctx, key, s); err != nil {
				errs <- fmt.Errorf("reading session %s: %w", key, err)
				return
			}
			pod := profile.RunnerPod(s, n)
			began := time.Now()
			_, err := core.CoreV1().Pods(s.Namespace).Create(ctx, pod, metav1.CreateOptions{FieldManager: profile.ManagerOperator})
			lat[n] = time.Since(began)
			if err != nil {
				errs <- fmt.Errorf("creating runner pod %s/%s: %w", s.Namespace, pod.Name, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return Creation{}, err
	}
	after, err := cluster.Scrape(ctx, cfg)
	if err != nil {
		return Creation{}, err
	}
	out := Creation{Pods: len(sessions), Webhooks: map[string]WebhookLatency{}}
	slices.Sort(lat)
	if len(lat) > 0 {
		out.ClientP50 = lat[len(lat)/2].Seconds()
		out.ClientP99 = lat[min(len(lat)-1, len(lat)*99/100)].Seconds()
		out.ClientMax = lat[len(lat)-1].Seconds()
	}
	for _, name := range webhookNames(after) {
		match := map[string]string{"name": name}
		d := after.Histogram(admissionMetric, match).Minus(before.Histogram(admissionMetric, match))
		if d.Count > 0 {
			first, share := d.First()
			out.Webhooks[name] = WebhookLatency{Calls: d.Count, Mean: d.Mean(), P50Bound: d.Bound(0.5), P99Bound: d.Bound(0.99),
				FirstBound: first, FirstShare: share}
		}
	}
	out.Rejected = after.Sum("apiserver_admission_webhook_rejection_count", nil) - before.Sum("apiserver_admission_webhook_rejection_count", nil)
	return out, nil
}

// webhookNames lists the webhook names the admission histogram has series for.
func webhookNames(m cluster.Metrics) []string {
	var names []string
	for _, s := range m[admissionMetric].GetMetric() {
		for _, l := range s.GetLabel() {
			if l.GetName() == "name" && !slices.Contains(names, l.GetValue()) {
				names = append(names, l.GetValue())
			}
		}
	}
	slices.Sort(names)
	return names
}
