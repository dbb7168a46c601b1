// Package crdcompat proves that this project's CRDs are compatible with the
// platform's (kept as testdata/upstream): structurally, by diffing the two
// definitions, and behaviourally, by writing one corpus of objects to an API server
// running each and comparing what they store.
package crdcompat

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// LoadCRD reads one CustomResourceDefinition from a YAML file (a leading "---" is fine).
func LoadCRD(path string) (*apiextv1.CustomResourceDefinition, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading CRD: %w", err)
	}
	crd := &apiextv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(data, crd); err != nil {
		return nil, fmt.Errorf("decoding CRD %s: %w", path, err)
	}
	return crd, nil
}

// Facets maps a schema path to its validation facets (type, format, default, enum,
// required, minimum, x-kubernetes-*, ...), each rendered as normalised JSON.
// Descriptions, titles and examples are left out: they change no behaviour.
type Facets map[string]map[string]string

// Paths use "." between properties, "[]" for array items and "{}" for the values of
// additionalProperties; the root is "<root>".
const rootPath = "<root>"

// Flatten walks a structural schema and returns the facets of every node.
func Flatten(s *apiextv1.JSONSchemaProps) (Facets, error) {
	out := Facets{}
	if err := flatten(rootPath, *s, out); err != nil {
		return nil, err
	}
	return out, nil
}

func flatten(path string, s apiextv1.JSONSchemaProps, out Facets) error {
	node := s
	node.Description, node.Title, node.Example, node.ExternalDocs = "", "", nil, nil
	node.Properties = nil
	if s.Items != nil && s.Items.Schema != nil {
		node.Items = nil
		if err := flatten(path+"[]", *s.Items.Schema, out); err != nil {
			return err
		}
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		node.AdditionalProperties = nil
		if err := flatten(path+"{}", *s.AdditionalProperties.Schema, out); err != nil {
			return err
		}
	}
	node.Required = append([]string(nil), s.Required...)
	sort.Strings(node.Required)

	// Rendering the remaining node generically covers every facet the API server
	// knows, including ones neither CRD uses today.
	raw, err := json.Marshal(node)
	if err != nil {
		return fmt.Errorf("encoding schema at %s: %w", path, err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return fmt.Errorf("decoding schema at %s: %w", path, err)
	}
	facets := make(map[string]string, len(fields))
	for name, value := range fields {
		v, err := json.Marshal(value)
		if err != nil {
			return fmt.Errorf("encoding %s at %s: %w", name, path, err)
		}
		facets[name] = string(v)
	}
	out[path] = facets
	for name, prop := range s.Properties {
		child := name
		if path != rootPath {
			child = path + "." + name
		}
		if err := flatten(child, prop, out); err != nil {
			return err
		}
	}
	return nil
}

// implicitRootFields are kept by every API server whatever the schema says, so
// declaring them (as controller-gen does) changes nothing.
var implicitRootFields = map[string]bool{"apiVersion": true, "kind": true, "metadata": true}

// DiffSchemas lists, one line per difference, every path and facet where ours is
// not the same as upstream. A path only upstream has would be pruned by ours; a path
// only ours has would be kept where upstream prunes: both are differences.
func DiffSchemas(prefix string, upstream, ours Facets) []string {
	var diffs []string
	for _, path := range unionKeys(upstream, ours) {
		up, inUp := upstream[path]
		our, inOurs := ours[path]
		switch {
		case !inOurs:
			diffs = append(diffs, fmt.Sprintf("%s %s: missing in ours (upstream %s)", prefix, path, render(up)))
		case !inUp:
			if !implicitRootFields[path] {
				diffs = append(diffs, fmt.Sprintf("%s %s: only in ours (%s)", prefix, path, render(our)))
			}
		default:
			for _, facet := range unionKeys(up, our) {
				if up[facet] != our[facet] {
					diffs = append(diffs, fmt.Sprintf("%s %s: %s: upstream %s, ours %s",
						prefix, path, facet, orNone(up[facet]), orNone(our[facet])))
				}
			}
		}
	}
	return diffs
}

func unionKeys[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func render(facets map[string]string) string {
	keys := unionKeys(facets, nil)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		s += k + "=" + facets[k]
	}
	return s
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}
