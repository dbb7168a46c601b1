package crdcompat

import "encoding/json"

// Coverage records which schema paths, and which values of each enum, stored
// objects actually use, so that the corpus can be held to every field and every
// enum value of the CRD: a value no object uses could be dropped unnoticed.
type Coverage map[string]bool

// Add records the paths of obj's fields that schema describes. Map values
// (additionalProperties) count under "{}", array items under "[]"; content below
// x-kubernetes-preserve-unknown-fields is free-form and not walked.
func (c Coverage) Add(schema Facets, obj map[string]any) {
	for name, value := range obj {
		if implicitRootFields[name] {
			continue
		}
		c.walk(schema, name, value)
	}
}

func (c Coverage) walk(schema Facets, path string, value any) {
	if _, known := schema[path]; !known {
		return
	}
	c[path] = true
	if _, isEnum := schema[path]["enum"]; isEnum {
		if v, err := json.Marshal(value); err == nil {
			c[path+"="+string(v)] = true
		}
	}
	switch v := value.(type) {
	case map[string]any:
		mapValues := path + "{}"
		for name, child := range v {
			if _, isMap := schema[mapValues]; isMap {
				c.walk(schema, mapValues, child)
			} else {
				c.walk(schema, path+"."+name, child)
			}
		}
	case []any:
		for _, item := range v {
			c.walk(schema, path+"[]", item)
		}
	}
}

// Missing lists the schema paths (other than the root) and the enum values
// ("path=value") that no stored object used.
func (c Coverage) Missing(schema Facets) []string {
	var missing []string
	for _, path := range unionKeys(schema, nil) {
		if path != rootPath && !c[path] {
			missing = append(missing, path)
		}
		var values []any
		if err := json.Unmarshal([]byte(schema[path]["enum"]), &values); err != nil {
			continue // no enum at this path
		}
		for _, value := range values {
			v, _ := json.Marshal(value)
			if !c[path+"="+string(v)] {
				missing = append(missing, path+"="+string(v))
			}
		}
	}
	return missing
}
