package archive

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DefaultSweepInterval was the period of the LIST sweep the Watcher replaced.
//
// Deprecated: nothing is periodic any more; kept so that the flag
// --archive-sweep-interval still parses.
const DefaultSweepInterval = 5 * time.Minute

// SweepResult is the result of a pass.
//
// Deprecated: use PassResult.
type SweepResult = PassResult

// Sweeper makes one pass over every archived session.
//
// Deprecated: use Watcher.Pass; kept for hack/scale, which times one pass.
type Sweeper struct {
	Reader    client.Reader
	Writer    client.Writer
	Interval  time.Duration // ignored
	PageSize  int64
	Namespace string
}

// Sweep is Watcher.Pass over s.Namespace.
func (s *Sweeper) Sweep(ctx context.Context) (SweepResult, error) {
	w := &Watcher{Reader: s.Reader, Writer: s.Writer, PageSize: s.PageSize}
	return w.Pass(ctx, s.Namespace)
}
