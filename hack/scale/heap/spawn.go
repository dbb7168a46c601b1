package heap

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ambient-code/agentic-operator/hack/scale/child"
)

// Measure runs req in a fresh child process of this binary and returns its result;
// the child's output goes to logs.
func Measure(ctx context.Context, req Request, logs io.Writer) (*Result, error) {
	dir, err := os.MkdirTemp("", "scale-heap-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	req.ResultFile = filepath.Join(dir, "result.json")
	cmd, err := child.Command(ctx, "heap", req)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("heap child for %s: %w", req.Configuration, err)
	}
	data, err := os.ReadFile(req.ResultFile)
	if err != nil {
		return nil, fmt.Errorf("heap child for %s wrote no result: %w", req.Configuration, err)
	}
	var res Result
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("decoding result of %s: %w", req.Configuration, err)
	}
	return &res, nil
}
