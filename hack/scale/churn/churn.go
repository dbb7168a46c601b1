// Package churn measures stored session size under status churn: status writes that
// each append a condition, as the platform's writer does, with the object's raw JSON
// read back from the API server at checkpoints.
package churn

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/hack/scale/profile"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// Checkpoint is the stored object after Writes appends.
type Checkpoint struct {
	Writes     int
	Bytes      int
	Conditions int
}

// Run creates session name in namespace (spec and status from profile session 0 of c)
// and makes writes status writes, each a JSON patch appending one condition whose
// type rotates over the platform's types, recording the stored size at checkpoints
// (and before the first write, as checkpoint 0).
func Run(ctx context.Context, cfg *rest.Config, c client.Client, counts profile.Counts, namespace, name string, writes int, checkpoints []int) ([]Checkpoint, error) {
	s := profile.Session(counts, 0)
	s.Name, s.Namespace, s.Annotations = name, namespace, nil
	if err := c.Create(ctx, s, client.FieldOwner(profile.ManagerCreator)); err != nil {
		return nil, fmt.Errorf("creating churn session: %w", err)
	}
	s.Status = profile.SessionStatus(counts, s, 0, time.Now())
	if err := c.Status().Update(ctx, s, client.FieldOwner(profile.ManagerOperator)); err != nil {
		return nil, fmt.Errorf("writing churn session status: %w", err)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("%s/apis/%s/namespaces/%s/agenticsessions/%s", strings.TrimSuffix(cfg.Host, "/"), v1alpha1.GroupVersion, namespace, name)
	out := make([]Checkpoint, 0, len(checkpoints)+1)
	record := func(w int) error {
		cp, err := stored(ctx, hc, url)
		cp.Writes = w
		out = append(out, cp)
		return err
	}
	if err := record(0); err != nil {
		return nil, err
	}
	base := time.Now().UTC().Truncate(time.Second)
	for w := 1; w <= writes; w++ {
		typ := profile.PlatformConditionTypes[w%len(profile.PlatformConditionTypes)]
		status := []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse}[w%2]
		cond := v1alpha1.Condition{Type: typ, Status: status, Reason: typ + "Changed",
			Message:            fmt.Sprintf("%s changed to %s after write %d of the churn run", typ, status, w),
			LastTransitionTime: &metav1.Time{Time: base.Add(time.Duration(w) * time.Second)}, ObservedGeneration: 1}
		patch, err := json.Marshal([]map[string]any{{"op": "add", "path": "/status/conditions/-", "value": cond}})
		if err != nil {
			return nil, err
		}
		if err := c.Status().Patch(ctx, s, client.RawPatch(types.JSONPatchType, patch), client.FieldOwner(profile.ManagerOperator)); err != nil {
			return nil, fmt.Errorf("churn write %d: %w", w, err)
		}
		if slices.Contains(checkpoints, w) {
			if err := record(w); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// stored reads the object's JSON as the API server returns it.
func stored(ctx context.Context, hc *http.Client, url string) (Checkpoint, error) {
	var raw []byte
	if err := profile.GetJSON(ctx, hc, url, &raw); err != nil {
		return Checkpoint{}, err
	}
	var s v1alpha1.AgenticSession
	if err := json.Unmarshal(raw, &s); err != nil {
		return Checkpoint{}, fmt.Errorf("decoding churn session: %w", err)
	}
	return Checkpoint{Bytes: len(raw), Conditions: len(s.Status.Conditions)}, nil
}
