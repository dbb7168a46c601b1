package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCommandRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--page-size=0"}, {"--workers=0"}, {"extra"}, {"--no-such-flag"}} {
		var out, errOut bytes.Buffer
		assert.Equal(t, 2, archiveCommand(context.Background(), args, &out, &errOut), "%v", args)
		assert.Empty(t, out.String(), "%v: nothing done, nothing printed", args)
		assert.NotEmpty(t, errOut.String(), "%v: says why", args)
	}
}

func TestCommandHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 0, archiveCommand(context.Background(), []string{"-h"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "-dry-run")
	assert.Empty(t, out.String())
}
