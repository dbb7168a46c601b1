package crdcompat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// TestCorpusIsStoredAlike writes one corpus with the real kubectl to an API server
// running the platform's CRDs and to one running ours: every step must be accepted
// or refused alike, with the same output and warnings, and leave the same stored
// objects. The corpus must use every field of both schemas.
func TestCorpusIsStoredAlike(t *testing.T) {
	pairs := crdPairs(t) // skips when ../shared is absent
	root := testenv.RepoRoot(t)
	cases, err := LoadCases("testdata")
	require.NoError(t, err)
	cases = append([]Case{SamplesCase()}, cases...)

	schemas := map[string]Facets{}
	var upstreamCRDs []string
	for _, pair := range pairs {
		crd, err := LoadCRD(pair.upstream)
		require.NoError(t, err)
		schemas[crd.Spec.Names.Kind], err = versionFacets(version(crd, "v1alpha1"))
		require.NoError(t, err)
		upstreamCRDs = append(upstreamCRDs, pair.upstream)
	}

	upstream := testenv.Start(t, testenv.Options{CRDPaths: upstreamCRDs})
	ours := testenv.Start(t, testenv.Options{CRDPaths: []string{filepath.Join(root, "config", "crd", "bases")}})

	var mu sync.Mutex
	coverage := map[string]Coverage{}
	objects := 0
	t.Run("case", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				stored := compareCase(t, upstream, ours, c)
				mu.Lock()
				defer mu.Unlock()
				objects += len(stored)
				for _, obj := range stored {
					kind, _ := obj["kind"].(string)
					if coverage[kind] == nil {
						coverage[kind] = Coverage{}
					}
					coverage[kind].Add(schemas[kind], obj)
				}
			})
		}
	})

	steps := 0
	for _, c := range cases {
		steps += len(c.Steps)
	}
	t.Logf("corpus: %d cases, %d kubectl steps, %d objects stored alike", len(cases), steps, objects)
	for kind, schema := range schemas {
		assert.Empty(t, coverage[kind].Missing(schema),
			"%s fields or enum values no stored object of the corpus uses: add them to test/crdcompat/testdata", kind)
		t.Logf("%s: %d schema paths and enum values used", kind, len(coverage[kind]))
	}
}

// compareCase runs c on both servers, compares every step and the stored objects,
// and returns what upstream stored.
func compareCase(t *testing.T, upstream, ours *testenv.Env, c Case) []map[string]any {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	upstream.CreateNamespace(t, c.Name, nil)
	ours.CreateNamespace(t, c.Name, nil)

	wrote := false
	for i, step := range c.Steps {
		up, err := Run(ctx, upstream, c.Name, step)
		require.NoError(t, err)
		our, err := Run(ctx, ours, c.Name, step)
		require.NoError(t, err)
		what := fmt.Sprintf("step %d (kubectl %s %s)", i+1, step.Kubectl, strings.Join(step.Flags, " "))
		require.Equalf(t, step.Reject, up.Refused,
			"%s: upstream refused=%v but the corpus expects reject=%v\nstdout: %s\nstderr: %s",
			what, up.Refused, step.Reject, up.Stdout, up.Stderr)
		assert.Equalf(t, up, our, "%s: ours answers differently from upstream", what)
		wrote = wrote || !up.Refused && step.Kubectl != "patch"
	}

	upStored, err := Stored(ctx, upstream, c.Name)
	require.NoError(t, err)
	ourStored, err := Stored(ctx, ours, c.Name)
	require.NoError(t, err)
	if wrote {
		require.NotEmpty(t, upStored, "accepted writes but upstream stored nothing")
	}
	assert.Equal(t, upStored, ourStored, "stored objects differ (-upstream +ours)")
	for _, obj := range ourStored {
		assert.NoError(t, decodeStrict(obj), "our Go types cannot hold %s", key(obj))
	}
	return upStored
}

// decodeStrict decodes obj into our Go type for its kind, refusing fields the type
// lacks: everything the CRDs store, the operator can read.
func decodeStrict(obj map[string]any) error {
	raw, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	var typed any
	switch obj["kind"] {
	case v1alpha1.KindAgenticSession:
		typed = &v1alpha1.AgenticSession{}
	case v1alpha1.KindProjectSettings:
		typed = &v1alpha1.ProjectSettings{}
	default:
		return fmt.Errorf("unexpected kind %v", obj["kind"])
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(typed); err != nil {
		return fmt.Errorf("decoding: %w", err)
	}
	return nil
}
