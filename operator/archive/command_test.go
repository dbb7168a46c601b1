package archive

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCommandRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--page-size=0"}, {"--workers=0"}, {"extra"}, {"--no-such-flag"}} {
		var out, errOut bytes.Buffer
		assert.Equal(t, 2, Command(context.Background(), args, &out, &errOut), "%v", args)
		assert.Empty(t, out.String(), "%v: nothing done, nothing printed", args)
		assert.NotEmpty(t, errOut.String(), "%v: says why", args)
	}
}

func TestCommandHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 0, Command(context.Background(), []string{"-h"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "-dry-run")
	assert.Empty(t, out.String())
}

func TestPrintCountsHasOneShape(t *testing.T) {
	var dry, real bytes.Buffer
	PrintCounts(&dry, AdoptResult{Scanned: 5, ByReason: map[Reason]int{Archivable: 3, RestartPending: 2}}, true)
	PrintCounts(&real, AdoptResult{Scanned: 1, ByReason: map[Reason]int{}, Changed: 1}, false)
	assert.Equal(t, "scanned: 5\nwouldArchive: 3\nnotTerminal: 0\nrestartPending: 2\nrunnerObjectLeft: 0\nbeingDeleted: 0\nchangedWhileArchiving: 0\n", dry.String())
	assert.Equal(t, "scanned: 1\narchived: 0\nnotTerminal: 0\nrestartPending: 0\nrunnerObjectLeft: 0\nbeingDeleted: 0\nchangedWhileArchiving: 1\n", real.String())
}
