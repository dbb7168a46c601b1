package archive

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPrintCountsHasOneShape(t *testing.T) {
	var dry, real bytes.Buffer
	PrintCounts(&dry, AdoptResult{Scanned: 5, ByReason: map[Reason]int{Archivable: 3, RestartPending: 2}}, true)
	PrintCounts(&real, AdoptResult{Scanned: 1, ByReason: map[Reason]int{}, Changed: 1}, false)
	assert.Equal(t, "scanned: 5\nwouldArchive: 3\nnotTerminal: 0\nrestartPending: 2\nrunnerObjectLeft: 0\nbeingDeleted: 0\nchangedWhileArchiving: 0\n", dry.String())
	assert.Equal(t, "scanned: 1\narchived: 0\nnotTerminal: 0\nrestartPending: 0\nrunnerObjectLeft: 0\nbeingDeleted: 0\nchangedWhileArchiving: 1\n", real.String())
}
