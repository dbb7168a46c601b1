package crdcompat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/ambient-code/agentic-operator/test/testenv"
)

// Outcome is what kubectl printed and whether the API server refused the step.
type Outcome struct {
	Refused bool
	Stdout  string
	Stderr  string
}

// resources are what the corpus writes and what Stored reads back.
const resources = "agenticsessions.vteam.ambient-code,projectsettings.vteam.ambient-code"

// Run performs step in namespace ns. A refusal by the API server is an Outcome; the
// error is for failures of the harness itself.
func Run(ctx context.Context, env *testenv.Env, ns string, step Step) (Outcome, error) {
	args := append([]string{step.Kubectl, "-n", ns}, step.Flags...)
	var stdin []byte
	switch {
	case step.Kustomize != "":
		args = append(args, "-k", filepath.Join(env.Root, step.Kustomize))
	case step.Kubectl == "patch":
		patch, err := json.Marshal(step.Patch)
		if err != nil {
			return Outcome{}, fmt.Errorf("encoding patch: %w", err)
		}
		patchType := step.PatchType
		if patchType == "" {
			patchType = "merge"
		}
		args = append(args, step.Target, "--type="+patchType, "-p", string(patch))
	default:
		body, err := json.Marshal(step.Object)
		if err != nil {
			return Outcome{}, fmt.Errorf("encoding object: %w", err)
		}
		if step.OntoStored {
			if body, err = ontoStored(ctx, env, ns, step.Object, body); err != nil {
				return Outcome{}, err
			}
		}
		stdin = body
		args = append(args, "-f", "-")
	}
	stdout, stderr, err := env.Kubectl(ctx, stdin, args...)
	if exitErr := (*exec.ExitError)(nil); errors.As(err, &exitErr) {
		return Outcome{Refused: true, Stdout: stdout, Stderr: sortCauses(stderr)}, nil
	}
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Stdout: stdout, Stderr: stderr}, nil
}

// sortCauses orders the "* field: reason" lines kubectl prints for an invalid
// object: the API server's schema validator lists several errors in map order,
// which varies from one request to the next.
func sortCauses(stderr string) string {
	lines := strings.Split(stderr, "\n")
	for start := 0; start < len(lines); start++ {
		end := start
		for end < len(lines) && strings.HasPrefix(lines[end], "* ") {
			end++
		}
		sort.Strings(lines[start:end])
		start = end
	}
	return strings.Join(lines, "\n")
}

// ontoStored merges patch over the stored object that obj names.
func ontoStored(ctx context.Context, env *testenv.Env, ns string, obj map[string]any, patch []byte) ([]byte, error) {
	kind, _ := obj["kind"].(string)
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	stored, _, err := env.Kubectl(ctx, nil, "get", "-n", ns, kind+".vteam.ambient-code/"+name, "-o", "json")
	if err != nil {
		return nil, fmt.Errorf("reading %s/%s to replace it: %w", kind, name, err)
	}
	merged, err := jsonpatch.MergePatch([]byte(stored), patch)
	if err != nil {
		return nil, fmt.Errorf("merging onto stored %s/%s: %w", kind, name, err)
	}
	return merged, nil
}

// volatileMetadata differs between two API servers for the same writes.
var volatileMetadata = []string{"uid", "resourceVersion", "creationTimestamp", "managedFields"}

// Stored returns the corpus's objects in ns as the API server stores them, sorted
// by kind and name, without the metadata that necessarily differs between servers.
func Stored(ctx context.Context, env *testenv.Env, ns string) ([]map[string]any, error) {
	out, _, err := env.Kubectl(ctx, nil, "get", resources, "-n", ns, "-o", "json", "--show-managed-fields")
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return nil, fmt.Errorf("decoding stored objects: %w", err)
	}
	for _, item := range list.Items {
		meta, ok := item["metadata"].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("stored object without metadata: %v", item)
		}
		if meta["uid"] == nil || meta["resourceVersion"] == nil {
			return nil, fmt.Errorf("stored object %v lacks uid or resourceVersion", meta["name"])
		}
		for _, key := range volatileMetadata {
			delete(meta, key)
		}
	}
	sort.SliceStable(list.Items, func(i, j int) bool { return key(list.Items[i]) < key(list.Items[j]) })
	return list.Items, nil
}

func key(obj map[string]any) string {
	meta, _ := obj["metadata"].(map[string]any)
	return fmt.Sprint(obj["kind"], "/", meta["name"])
}
