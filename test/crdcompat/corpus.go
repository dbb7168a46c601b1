package crdcompat

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Case is one scenario of the corpus. Its steps run, in order, in a namespace of its
// own (named after the case) on each API server; afterwards the objects each stored
// are compared.
type Case struct {
	// Name is the file name without extension; it is also the namespace.
	Name string `json:"-"`
	// Description says what the case shows.
	Description string `json:"description"`
	Steps       []Step `json:"steps"`
}

// Step is one kubectl invocation.
type Step struct {
	// Kubectl is the verb: create, apply, replace or patch.
	Kubectl string `json:"kubectl"`
	// Flags are passed as they are, e.g. --validate=warn, --server-side, --subresource=status.
	Flags []string `json:"flags,omitempty"`
	// Object is the manifest sent on stdin (create, apply, replace).
	Object map[string]any `json:"object,omitempty"`
	// Kustomize is a directory, relative to the repository root, for `apply -k`.
	Kustomize string `json:"kustomize,omitempty"`
	// OntoStored (replace only) sends the stored object with Object merged over it
	// (RFC 7386), as a client that reads before it writes; its resourceVersion goes along.
	OntoStored bool `json:"ontoStored,omitempty"`
	// Target (kind/name) is what patch changes, with Patch of PatchType (merge or json).
	Target    string `json:"target,omitempty"`
	PatchType string `json:"patchType,omitempty"`
	Patch     any    `json:"patch,omitempty"`
	// Reject says the upstream CRD refuses this step; ours must too.
	Reject bool `json:"reject,omitempty"`
}

// dnsLabel is what a case name must be, since it names a namespace.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// LoadCases reads every *.yaml case in dir, sorted by name.
func LoadCases(dir string) ([]Case, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("listing cases: %w", err)
	}
	slices.Sort(files)
	cases := make([]Case, 0, len(files))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading case: %w", err)
		}
		c := Case{Name: strings.TrimSuffix(filepath.Base(file), ".yaml")}
		if err := yaml.UnmarshalStrict(data, &c); err != nil {
			return nil, fmt.Errorf("decoding case %s: %w", file, err)
		}
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("case %s: %w", file, err)
		}
		cases = append(cases, c)
	}
	return cases, nil
}

// SamplesCase applies config/samples with kustomize, as the README tells users to.
func SamplesCase() Case {
	return Case{
		Name:        "config-samples",
		Description: "config/samples applied with kubectl apply -k",
		Steps:       []Step{{Kubectl: "apply", Kustomize: filepath.Join("config", "samples")}},
	}
}

func (c Case) validate() error {
	if !dnsLabel.MatchString(c.Name) {
		return fmt.Errorf("name %q is not a DNS label (it names the namespace)", c.Name)
	}
	if c.Description == "" || len(c.Steps) == 0 {
		return fmt.Errorf("needs a description and at least one step")
	}
	for i, s := range c.Steps {
		if err := s.validate(); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	return nil
}

func (s Step) validate() error {
	switch s.Kubectl {
	case "create", "apply", "replace":
		if s.Object == nil && s.Kustomize == "" {
			return fmt.Errorf("%s needs an object", s.Kubectl)
		}
		if meta, ok := s.Object["metadata"].(map[string]any); ok && meta["namespace"] != nil {
			return fmt.Errorf("objects take the case's namespace; drop metadata.namespace")
		}
	case "patch":
		if s.Target == "" || s.Patch == nil {
			return fmt.Errorf("patch needs a target and a patch")
		}
		if s.PatchType != "" && s.PatchType != "merge" && s.PatchType != "json" {
			return fmt.Errorf("patchType %q: want merge or json", s.PatchType)
		}
	default:
		return fmt.Errorf("unknown kubectl verb %q", s.Kubectl)
	}
	if s.OntoStored && s.Kubectl != "replace" {
		return fmt.Errorf("ontoStored applies to replace only")
	}
	return nil
}
