// Command run is `make run`: a local control plane (etcd + kube-apiserver built
// by `make controlplane`) with this project's CRDs and webhook configurations
// installed, the webhook and the operator running against it, a simulated
// kubelet for runner pods, and a managed demo namespace. It prints the
// KUBECONFIG line and commands that show the enforcement, and on Ctrl-C stops
// everything and removes its state.
package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// The kernel sends a child's parent-death signal when the thread that forked
// it exits. Keeping the main goroutine on the main thread, and starting every
// child from it, ties the children to the life of the process.
func init() { runtime.LockOSThread() }

func main() {
	// Errors here are the user's to read, not a developer's: no stack traces.
	log := zap.New(zap.WriteTo(os.Stderr), zap.ConsoleEncoder(), zap.StacktraceLevel(zapcore.PanicLevel))
	if err := run(os.Args[1:], log); err != nil {
		log.Error(err, "Local run failed")
		os.Exit(1)
	}
}

func run(args []string, log logr.Logger) error {
	cfg, err := parseConfig(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := dieWithParent(); err != nil {
		log.Info("Will not stop when the parent process goes", "reason", err.Error())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := cfg.checkPortsFree(); err != nil {
		return err
	}

	r := newLocalRun(cfg, log)
	if err := r.prepareDir(); err != nil {
		return err
	}
	err = r.up(ctx)
	if err == nil {
		err = r.wait(ctx)
	}
	if err != nil && ctx.Err() != nil {
		// Interrupted while starting: the error is the interruption's echo.
		log.Info("Interrupted while starting", "step", err.Error())
		err = nil
	}
	log.Info("Shutting down")
	if downErr := r.down(); downErr != nil {
		err = errors.Join(err, downErr)
	}
	r.removeState(err == nil)
	if err == nil {
		log.Info("Stopped; nothing left running", "removed", cfg.dir)
	}
	return err
}
