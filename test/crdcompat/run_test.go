package crdcompat

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSortCausesOrdersOnlyBulletRuns(t *testing.T) {
	in := "The AgenticSession \"x\" is invalid: \n* spec.timeout: b\n* spec.inactivityTimeout: a\nWarning: z\n* c\n"
	want := "The AgenticSession \"x\" is invalid: \n* spec.inactivityTimeout: a\n* spec.timeout: b\nWarning: z\n* c\n"
	assert.Equal(t, want, sortCauses(in))
	assert.Equal(t, "no causes\n", sortCauses("no causes\n"))
}
