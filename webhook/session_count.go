package webhook

import (
	"bytes"

	"github.com/go-json-experiment/json/jsontext"
)

// tooManyConditions reports whether the raw status holds a conditions list of
// more than maxConditionEntries entries. It only scans (the review decoder has
// validated the JSON already) and stops at the first entry over the bound, so
// a 3 MiB list of tiny conditions is refused without building one map of it.
func tooManyConditions(raw jsontext.Value) bool {
	if raw.Kind() != '{' {
		return false
	}
	dec := jsontext.NewDecoder(bytes.NewReader(raw), jsontext.AllowDuplicateNames(true))
	if _, err := dec.ReadToken(); err != nil { // {
		return false
	}
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return false
		}
		if name.String() != "conditions" || dec.PeekKind() != '[' {
			if err := dec.SkipValue(); err != nil {
				return false
			}
			continue
		}
		if _, err := dec.ReadToken(); err != nil { // [
			return false
		}
		for n := 0; dec.PeekKind() != ']'; n++ {
			if n == maxConditionEntries {
				return true
			}
			if err := dec.SkipValue(); err != nil {
				return false
			}
		}
		return false
	}
	return false
}
