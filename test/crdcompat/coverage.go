package crdcompat

// Coverage records which schema paths stored objects actually use, so that the
// corpus can be held to "every field of the CRD".
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

// Missing lists the schema paths (other than the root) that no stored object used.
func (c Coverage) Missing(schema Facets) []string {
	var missing []string
	for _, path := range unionKeys(schema, nil) {
		if path != rootPath && !c[path] {
			missing = append(missing, path)
		}
	}
	return missing
}
