package main

import (
	"context"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/kubeletsim"
)

// up starts everything in dependency order and prints the instructions.
func (r *localRun) up(ctx context.Context) error {
	if err := r.openInProcessLog(); err != nil {
		return err
	}
	p := r.cfg.ports
	r.log.Info("Starting the control plane", "etcd", localAddr(p.Etcd), "kubeApiserver", localAddr(p.APIServer))
	if err := r.startEtcd(); err != nil {
		return err
	}
	if err := r.startAPIServer(); err != nil {
		return err
	}
	if err := r.waitAPIServer(ctx); err != nil {
		return err
	}
	if err := r.writeKubeconfig(); err != nil {
		return err
	}
	if err := r.newClient(); err != nil {
		return err
	}
	r.log.Info("Installing CRDs", "from", "config/crd")
	if err := r.installCRDs(ctx); err != nil {
		return err
	}

	if err := r.grantOperator(ctx); err != nil {
		return err
	}
	r.log.Info("Granted the operator its shipped roles", "serviceAccount", r.operator.Username())
	r.log.Info("Installing admission policies", "from", "config/policies", "runnerCreators", r.operator.Username())
	if err := r.installPolicies(ctx); err != nil {
		return err
	}

	// The webhook is ready before it is registered, so that no write passes a
	// failed-open webhook that is not there yet.
	if err := r.startWebhook(); err != nil {
		return err
	}
	if err := r.waitReady(ctx, "webhook", p.WebhookProbe); err != nil {
		return err
	}
	r.log.Info("Registering the webhook", "from", "config/webhook", "url", "https://"+localAddr(p.Webhook))
	if err := r.installWebhooks(ctx); err != nil {
		return err
	}
	if err := r.createDemo(ctx); err != nil {
		return err
	}

	operator, err := r.operatorBinary()
	if err != nil {
		return err
	}
	if operator == "" {
		r.log.Info("No bin/operator: running without the operator (`make build` builds it)")
	} else {
		if err := r.writeOperatorKubeconfig(ctx); err != nil {
			return err
		}
		if err := r.startOperator(operator); err != nil {
			return err
		}
		if err := r.waitReady(ctx, "operator", p.OperatorProbe); err != nil {
			return err
		}
	}
	if err := r.startKubeletSim(); err != nil {
		return err
	}
	r.printInstructions(os.Stdout, operator != "")
	return nil
}

func (r *localRun) newClient() error {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return fmt.Errorf("building scheme: %w", err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return fmt.Errorf("building scheme: %w", err)
	}
	c, err := client.New(r.rest, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("creating the API client: %w", err)
	}
	r.client = c
	return nil
}

// openInProcessLog sends the simulated kubelet's logs, and those of
// controller-runtime and client-go inside this process, to a file.
func (r *localRun) openInProcessLog() error {
	f, err := os.OpenFile(r.path("logs", "kubelet-sim.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("opening the in-process log: %w", err)
	}
	r.inProcessLog = zap.New(zap.WriteTo(f), zap.ConsoleEncoder())
	ctrl.SetLogger(r.inProcessLog)
	klog.SetLogger(r.inProcessLog)
	return nil
}

// startKubeletSim runs the simulated kubelet in-process.
func (r *localRun) startKubeletSim() error {
	r.log.Info("Started", "program", "simulated kubelet (in-process)", "log", r.path("logs", "kubelet-sim.log"))
	r.sim = goBackground(func(ctx context.Context) error {
		return kubeletsim.Run(ctx, r.rest, r.inProcessLog.WithName("kubelet-sim"))
	})
	return nil
}

// background is a goroutine with its own cancel and a result.
type background struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error // valid once done is closed
}

func goBackground(fn func(context.Context) error) *background {
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		b.err = fn(ctx)
	}()
	return b
}

func (b *background) stop() error {
	b.cancel()
	<-b.done
	return b.err
}
