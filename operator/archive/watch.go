package archive

import (
	"context"
	"errors"
	"math"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/metadata"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// Watcher is the backstop for restart requests the webhook did not see (it fails
// open, so a request made while it was down leaves the session archived and
// outside the operator's cache). It watches archived sessions as metadata only,
// keeping nothing: each event is looked at, acted on if it is a restart request,
// and dropped. The watch resumes from the last resourceVersion it saw, bookmarks
// included, so a reconnect costs no LIST. A paginated Pass runs only at start,
// when the watch's history has expired (410) and, for that namespace alone, when
// a namespace becomes managed (a request there was left while it was not).
//
// It is a manager Runnable that needs leader election (only the leader writes);
// its one goroutine ends with the manager's context.
type Watcher struct {
	// Reader lists for passes and must read the API server (the manager's
	// APIReader): archived sessions are outside the cache by design.
	Reader client.Reader
	// Writer patches sessions.
	Writer client.Writer
	// Watch watches archived sessions as metadata.
	Watch metadata.Interface
	// PageSize is a pass's list limit; zero means DefaultPageSize.
	PageSize int64
	// Namespace restricts the watcher as the operator is restricted; empty is all.
	Namespace string
	// Managed, when set, reports whether a namespace is managed; a restart
	// request in one that is not is left for when it is.
	Managed func(ctx context.Context, namespace string) (bool, error)
	// Namespaces, when set, is the cache of managed namespaces; one entering it
	// gets a Pass of its own.
	Namespaces Informers
}

// Backoffs between attempts. Reconnects stay fast (a request written just
// after an API server restart is acted on within about a second); a failing
// pass is a LIST of everything, so it backs off further.
var (
	reconnectBackoff = wait.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: math.MaxInt32, Cap: time.Second}
	passBackoff      = wait.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.2, Steps: math.MaxInt32, Cap: time.Minute}
	// namespaceRetry is the wait before a failed namespace pass is retried.
	namespaceRetry = 5 * time.Second
)

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (w *Watcher) NeedLeaderElection() bool { return true }

// Start watches until ctx is done. Failures are logged and retried; they never
// stop the manager.
func (w *Watcher) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("archive-watch")
	ctx = log.IntoContext(ctx, logger)
	newly := newPending()
	// Registered before the start pass, so that no namespace becomes managed
	// unseen between the two.
	stop, err := w.watchNamespaces(ctx, newly)
	if err != nil {
		return err
	}
	defer stop()

	// rv is where the watch resumes; a pass, when needed, sets it.
	rv, needPass, reason := "", true, PassStart
	passWait, watchWait := passBackoff, reconnectBackoff
	for ctx.Err() == nil {
		if needPass {
			res, err := w.Pass(ctx, w.Namespace)
			if err != nil {
				if ctx.Err() == nil {
					logger.Error(err, "Archive pass failed; retrying", "reason", reason, "pages", res.Pages, "restored", res.Restored)
					sleep(ctx, passWait.Step())
				}
				continue
			}
			passWait = passBackoff
			passesTotal.WithLabelValues(reason).Inc()
			logger.Info("Archive pass done; watching from its resourceVersion", "reason", reason,
				"pages", res.Pages, "archived", res.Archived, "restored", res.Restored, "resourceVersion", res.ResourceVersion)
			rv, needPass = res.ResourceVersion, false
		}
		next, opened, err := w.stream(ctx, rv, newly)
		if opened {
			watchWait = reconnectBackoff
		}
		switch {
		case ctx.Err() != nil:
		case isExpired(err):
			logger.Info("Archive watch history expired; listing once", "resourceVersion", next, "error", err.Error())
			needPass, reason = true, PassExpired
		case err != nil:
			logger.Error(err, "Archive watch failed; resuming", "resourceVersion", next)
			rv = next
			sleep(ctx, watchWait.Step())
		default: // closed by the server: resume at once
			rv = next
		}
	}
	return nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// errNoWatch is returned by a Watcher without a Watch client.
var errNoWatch = errors.New("archive watcher has no metadata client")
