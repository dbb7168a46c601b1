package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// Environment variables that set the flags' defaults, so `make run` can be
// pointed elsewhere without editing the Makefile (the test of `make run` does).
const (
	envDir      = "AGENTIC_RUN_DIR"
	envPortBase = "AGENTIC_RUN_PORT_BASE"
	envBinDir   = "AGENTIC_RUN_BIN_DIR"
)

const defaultPortBase = 16443

// config is what the local run needs to know before it starts anything.
type config struct {
	// root is the repository: config/ and bin/ are read from it.
	root string
	// binDir holds etcd, kube-apiserver, kubectl, webhook and operator.
	binDir string
	// dir holds this run's state (etcd data, certificates, kubeconfig, logs),
	// removed on a clean shutdown.
	dir   string
	ports ports
}

// ports are consecutive from a base so one number moves a whole run.
type ports struct {
	APIServer, Etcd, EtcdPeer, Webhook, WebhookProbe, WebhookMetrics, OperatorProbe, OperatorMetrics int
}

func portsFrom(base int) ports {
	return ports{
		APIServer: base, Etcd: base + 1, EtcdPeer: base + 2,
		Webhook: base + 3, WebhookProbe: base + 4, WebhookMetrics: base + 5,
		OperatorProbe: base + 6, OperatorMetrics: base + 7,
	}
}

// named lists the ports with what listens on them, for messages.
func (p ports) named() []struct {
	name string
	port int
} {
	return []struct {
		name string
		port int
	}{
		{"kube-apiserver", p.APIServer}, {"etcd", p.Etcd}, {"etcd peer", p.EtcdPeer},
		{"webhook", p.Webhook}, {"webhook probes", p.WebhookProbe}, {"webhook metrics", p.WebhookMetrics},
		{"operator probes", p.OperatorProbe}, {"operator metrics", p.OperatorMetrics},
	}
}

func parseConfig(args []string) (config, error) {
	defBase, err := envInt(envPortBase, defaultPortBase)
	if err != nil {
		return config{}, err
	}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: make run   (or bin/run [flags] from the repository root)

Starts etcd and kube-apiserver on localhost, installs the CRDs and webhook
configurations from config/, runs bin/webhook, bin/operator (when built) and a
simulated kubelet against them, and creates the managed namespace "demo".
Ctrl-C stops everything and removes the state directory.

Flags:
`)
		fs.PrintDefaults()
	}
	root := fs.String("root", ".", "repository root (config/ and bin/ are read from it)")
	dir := fs.String("dir", envOr(envDir, ""), "state directory, removed on a clean exit (default <root>/.run) [$"+envDir+"]")
	binDir := fs.String("bin-dir", envOr(envBinDir, ""), "directory of the etcd, kube-apiserver, kubectl, webhook and operator binaries (default <root>/bin) [$"+envBinDir+"]")
	base := fs.Int("port-base", defBase,
		"first of 8 consecutive localhost ports: kube-apiserver, etcd, etcd peer, webhook, its probes and metrics, operator probes and metrics; keep it below the kernel's ephemeral ports (32768 and up) [$"+envPortBase+"]")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if *base < 1024 || *base+7 > 65535 {
		return config{}, fmt.Errorf("--port-base %d: the 8 ports must lie within 1024-65535", *base)
	}
	abs, err := filepath.Abs(*root)
	if err != nil {
		return config{}, fmt.Errorf("resolving --root: %w", err)
	}
	if _, err := os.Stat(filepath.Join(abs, "config", "crd", "bases")); err != nil {
		return config{}, fmt.Errorf("--root %s is not the repository (run from its top, as `make run` does): %w", abs, err)
	}
	c := config{root: abs, binDir: *binDir, dir: *dir, ports: portsFrom(*base)}
	if c.binDir == "" {
		c.binDir = filepath.Join(abs, "bin")
	}
	if c.dir == "" {
		c.dir = filepath.Join(abs, ".run")
	}
	if c.dir, err = filepath.Abs(c.dir); err != nil {
		return config{}, fmt.Errorf("resolving --dir: %w", err)
	}
	if c.binDir, err = filepath.Abs(c.binDir); err != nil {
		return config{}, fmt.Errorf("resolving --bin-dir: %w", err)
	}
	return c, nil
}

// checkPortsFree fails before anything starts when a port is taken, naming
// it, instead of leaving a half-started run to explain itself.
func (c config) checkPortsFree() error {
	for _, p := range c.ports.named() {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)))
		if err != nil {
			return fmt.Errorf("port %d for %s is taken (another `make run`?); choose others with --port-base or $%s: %w",
				p.port, p.name, envPortBase, err)
		}
		l.Close()
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("$%s=%q: %w", name, v, err)
	}
	return n, nil
}
