package crdcompat

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// DiffCRDs lists every way ours differs from upstream in what clients and the API
// server see: names, scope, versions, subresources, printer columns (ours may add
// some, not drop any) and, path by path, the schema. Descriptions are ignored.
func DiffCRDs(upstream, ours *apiextv1.CustomResourceDefinition) ([]string, error) {
	d := &crdDiff{prefix: upstream.Name}
	d.eq("metadata.name", upstream.Name, ours.Name)
	d.eq("group", upstream.Spec.Group, ours.Spec.Group)
	d.eq("scope", string(upstream.Spec.Scope), string(ours.Spec.Scope))
	d.eq("names.kind", upstream.Spec.Names.Kind, ours.Spec.Names.Kind)
	d.eq("names.listKind", listKind(upstream.Spec.Names), listKind(ours.Spec.Names))
	d.eq("names.plural", upstream.Spec.Names.Plural, ours.Spec.Names.Plural)
	d.eq("names.singular", upstream.Spec.Names.Singular, ours.Spec.Names.Singular)
	d.eq("names.shortNames", sorted(upstream.Spec.Names.ShortNames), sorted(ours.Spec.Names.ShortNames))
	d.eq("names.categories", sorted(upstream.Spec.Names.Categories), sorted(ours.Spec.Names.Categories))
	d.eq("preserveUnknownFields", upstream.Spec.PreserveUnknownFields, ours.Spec.PreserveUnknownFields)
	d.eq("conversion", conversion(upstream), conversion(ours))

	for _, name := range versionNames(upstream, ours) {
		up, our := version(upstream, name), version(ours, name)
		at := "versions[" + name + "]"
		if up == nil || our == nil {
			d.eq(at, up != nil, our != nil)
			continue
		}
		d.eq(at+".served", up.Served, our.Served)
		d.eq(at+".storage", up.Storage, our.Storage)
		d.eq(at+".deprecated", up.Deprecated, our.Deprecated)
		d.eq(at+".subresources", jsonOf(up.Subresources), jsonOf(our.Subresources))
		d.eq(at+".selectableFields", jsonOf(up.SelectableFields), jsonOf(our.SelectableFields))
		for _, col := range up.AdditionalPrinterColumns {
			if !slices.ContainsFunc(our.AdditionalPrinterColumns, func(c apiextv1.CustomResourceColumnDefinition) bool {
				return c.Name == col.Name && c.Type == col.Type && c.JSONPath == col.JSONPath && c.Format == col.Format
			}) {
				d.diffs = append(d.diffs, fmt.Sprintf("%s %s.additionalPrinterColumns: ours lacks %s", d.prefix, at, jsonOf(col)))
			}
		}
		upFacets, err := versionFacets(up)
		if err != nil {
			return nil, fmt.Errorf("upstream %s: %w", at, err)
		}
		ourFacets, err := versionFacets(our)
		if err != nil {
			return nil, fmt.Errorf("ours %s: %w", at, err)
		}
		d.diffs = append(d.diffs, DiffSchemas(d.prefix+" "+at+".schema", upFacets, ourFacets)...)
	}
	return d.diffs, nil
}

type crdDiff struct {
	prefix string
	diffs  []string
}

func (d *crdDiff) eq(what string, upstream, ours any) {
	if fmt.Sprint(upstream) != fmt.Sprint(ours) {
		d.diffs = append(d.diffs, fmt.Sprintf("%s %s: upstream %v, ours %v", d.prefix, what, upstream, ours))
	}
}

// listKind is defaulted by the API server to <Kind>List when a CRD leaves it out.
func listKind(n apiextv1.CustomResourceDefinitionNames) string {
	if n.ListKind == "" {
		return n.Kind + "List"
	}
	return n.ListKind
}

// conversion is defaulted by the API server to the None strategy.
func conversion(crd *apiextv1.CustomResourceDefinition) string {
	if crd.Spec.Conversion == nil {
		return string(apiextv1.NoneConverter)
	}
	return jsonOf(crd.Spec.Conversion)
}

func sorted(s []string) string {
	c := slices.Clone(s)
	slices.Sort(c)
	return "[" + strings.Join(c, " ") + "]"
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<unencodable: %v>", err)
	}
	return string(b)
}

func versionNames(crds ...*apiextv1.CustomResourceDefinition) []string {
	var names []string
	for _, crd := range crds {
		for _, v := range crd.Spec.Versions {
			if !slices.Contains(names, v.Name) {
				names = append(names, v.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

func version(crd *apiextv1.CustomResourceDefinition, name string) *apiextv1.CustomResourceDefinitionVersion {
	for i := range crd.Spec.Versions {
		if crd.Spec.Versions[i].Name == name {
			return &crd.Spec.Versions[i]
		}
	}
	return nil
}

func versionFacets(v *apiextv1.CustomResourceDefinitionVersion) (Facets, error) {
	if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
		return Facets{}, nil
	}
	return Flatten(v.Schema.OpenAPIV3Schema)
}
