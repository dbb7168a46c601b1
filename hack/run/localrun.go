package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/test/identity"
)

// stopGrace is how long a child gets between SIGTERM and SIGKILL.
const stopGrace = 15 * time.Second

// stateEntries are what a run creates in its directory; a clean exit removes
// them, a failed one keeps the logs.
var stateEntries = []string{"etcd", "certs", "kubeconfig", "operator.kubeconfig", "demo", "logs"}

// localRun is one `make run`: the children it started, in start order, and
// the clients and certificates the later steps need.
type localRun struct {
	cfg      config
	log      logr.Logger
	children []*child
	// exited receives each child when it exits; buffered for all of them.
	exited chan *child

	rest      *rest.Config
	client    client.Client
	webhookCA []byte
	// operator is the operator's ServiceAccount and shipped roles, granted at
	// start-up; the operator, the webhook's and the policies' runner creators
	// all use it.
	operator *identity.Operator
	sim      *background
	// inProcessLog is where the simulated kubelet and client internals log.
	inProcessLog logr.Logger
}

func newLocalRun(cfg config, log logr.Logger) *localRun {
	return &localRun{cfg: cfg, log: log, exited: make(chan *child, 8)}
}

func (r *localRun) path(elem ...string) string {
	return filepath.Join(append([]string{r.cfg.dir}, elem...)...)
}

// start starts a child and keeps it for wait and down.
func (r *localRun) start(name, path string, args, env []string) error {
	c, err := startChild(name, path, args, env, r.path("logs"))
	if err != nil {
		return err
	}
	r.log.Info("Started", "program", name, "pid", c.cmd.Process.Pid, "log", c.logPath)
	r.children = append(r.children, c)
	go func() {
		<-c.done
		r.exited <- c
	}()
	return nil
}

// poll calls ok until it reports true, failing when ctx ends or a child exits.
func (r *localRun) poll(ctx context.Context, what string, ok func() bool) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		if ok() {
			return nil
		}
		for _, c := range r.children {
			select {
			case <-c.done:
				return fmt.Errorf("waiting for %s: %w", what, c.exitError())
			default:
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s (logs in %s): %w", what, r.path("logs"), context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// wait blocks until an interrupt (nil) or until a child or the simulated
// kubelet stops on its own (an error).
func (r *localRun) wait(ctx context.Context) error {
	var simDone <-chan struct{}
	if r.sim != nil {
		simDone = r.sim.done
	}
	select {
	case <-ctx.Done():
		return nil
	case c := <-r.exited:
		return c.exitError()
	case <-simDone:
		return fmt.Errorf("the simulated kubelet stopped: %w", r.sim.err)
	}
}

// down stops the simulated kubelet, then the children in reverse start order:
// operator and webhook before the API server, the API server before etcd.
func (r *localRun) down() error {
	var errs []error
	if r.sim != nil {
		if err := r.sim.stop(); err != nil {
			errs = append(errs, fmt.Errorf("simulated kubelet: %w", err))
		}
	}
	for i := len(r.children) - 1; i >= 0; i-- {
		c := r.children[i]
		if err := c.stop(stopGrace); err != nil {
			errs = append(errs, err)
			continue
		}
		r.log.Info("Stopped", "program", c.name)
	}
	return errors.Join(errs...)
}

// prepareDir creates the state directory, first removing what a killed run
// left (its processes died with it; its data must not confuse this one).
func (r *localRun) prepareDir() error {
	for _, e := range stateEntries {
		if err := os.RemoveAll(r.path(e)); err != nil {
			return fmt.Errorf("removing stale state: %w", err)
		}
	}
	if err := os.MkdirAll(r.path("logs"), 0o700); err != nil {
		return fmt.Errorf("creating the state directory: %w", err)
	}
	return nil
}

// removeState removes everything the run created; after a failure the logs
// stay for reading. The directory itself goes when nothing else is in it.
func (r *localRun) removeState(clean bool) {
	for _, e := range stateEntries {
		if e == "logs" && !clean {
			r.log.Info("Logs kept", "dir", r.path("logs"))
			continue
		}
		if err := os.RemoveAll(r.path(e)); err != nil {
			r.log.Error(err, "Removing state", "path", r.path(e))
		}
	}
	_ = os.Remove(r.cfg.dir)
}
