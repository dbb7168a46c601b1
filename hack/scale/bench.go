package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ambient-code/agentic-operator/hack/scale/bench"
	"github.com/ambient-code/agentic-operator/hack/scale/report"
)

// runBench runs the whole benchmark and writes the report, its plot and the raw results.
func runBench(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(out)
	root := fs.String("root", ".", "repository root (bin/ with kube-apiserver, etcd, kubectl and webhook; config/)")
	smoke := fs.Bool("smoke", false, "run the small smoke version (0.05x, one sample) instead of the full benchmark")
	md := fs.String("out", "BENCHMARKS.md", "report to write")
	plot := fs.String("plot", "hack/scale/results/heap-vs-sessions.png", "plot of heap against sessions to write (the report links it)")
	raw := fs.String("results", "hack/scale/results/results.json", "raw results to write as JSON")
	logPath := fs.String("logs", "bin/bench-scale.log", "file receiving the output of child processes and servers")
	window := fs.Duration("list-window", 0, "settled window watched for LIST requests (default 10m; 3s with -smoke)")
	samples := fs.Int("samples", 0, "heap samples per configuration and point (default 5; 1 with -smoke)")
	scales := fs.String("session-scales", "", "comma-separated session multipliers (default 1,2,5)")
	rates := fs.String("rates", "", "comma-separated review rates per second (default 500,1000,2000)")
	profiles := fs.String("heap-profiles", "", "directory for a pprof heap profile of every measured configuration (default: none)")
	active := fs.String("active-sessions", "", "comma-separated active-session counts the active phase grows to (default 1000,5000)")
	confs := fs.String("configurations", "", "comma-separated cache configurations measured at each point (default naive,scoped,shipped)")
	phases := fs.String("phases", "", "comma-separated phases after the heap points: starts, webhook, archive, active (default all; \"none\" for the heap points only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	absRoot, err := filepath.Abs(*root)
	if err != nil {
		return err
	}
	cfg := bench.Full(absRoot)
	if *smoke {
		cfg = bench.Smoke(absRoot)
	}
	if *window > 0 {
		cfg.ListWindow = *window
	}
	if *samples > 0 {
		cfg.Samples = *samples
	}
	if *scales != "" {
		if cfg.SessionScales, err = parseList(*scales, strconv.ParseFloat); err != nil {
			return fmt.Errorf("-session-scales: %w", err)
		}
	}
	if *rates != "" {
		if cfg.Rates, err = parseList(*rates, func(s string, _ int) (int, error) { return strconv.Atoi(s) }); err != nil {
			return fmt.Errorf("-rates: %w", err)
		}
	}
	if *active != "" {
		if cfg.ActiveSessions, err = parseList(*active, func(s string, _ int) (int, error) { return strconv.Atoi(s) }); err != nil {
			return fmt.Errorf("-active-sessions: %w", err)
		}
	}
	if *confs != "" {
		cfg.Configurations = strings.Split(*confs, ",")
	}
	if *phases != "" {
		if cfg.Phases, err = bench.ParsePhases(*phases); err != nil {
			return fmt.Errorf("-phases: %w", err)
		}
	}
	if *profiles != "" {
		cfg.HeapProfiles = under(absRoot, *profiles)
		if err := os.MkdirAll(cfg.HeapProfiles, 0o755); err != nil {
			return err
		}
	}
	logs, err := create(under(absRoot, *logPath))
	if err != nil {
		return err
	}
	defer logs.Close()
	cfg.Logs, cfg.Log = logs, logger(out)
	// What runs in this process with controller-runtime's logger (the archive pass,
	// the operator of the session starts) logs to the log file, beside the servers.
	ctrllog.SetLogger(logger(logs))

	res, err := bench.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("%w (child and server output in %s)", err, *logPath)
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := write(under(absRoot, *raw), data); err != nil {
		return err
	}
	if err := render(res, absRoot, *md, *plot, *raw); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s, %s and %s in %s\n", *md, *plot, *raw, res.Took.Round(1e9))
	return nil
}

// runReport renders the report and plot again from the raw results of a run.
func runReport(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(out)
	root := fs.String("root", ".", "repository root the paths are relative to")
	md := fs.String("out", "BENCHMARKS.md", "report to write")
	plot := fs.String("plot", "hack/scale/results/heap-vs-sessions.png", "plot to write")
	raw := fs.String("results", "hack/scale/results/results.json", "raw results of a bench run to read")
	if err := fs.Parse(args); err != nil {
		return err
	}
	data, err := os.ReadFile(under(*root, *raw))
	if err != nil {
		return err
	}
	var res bench.Results
	if err := json.Unmarshal(data, &res); err != nil {
		return fmt.Errorf("decoding %s: %w", *raw, err)
	}
	if err := render(&res, *root, *md, *plot, *raw); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s and %s from %s\n", *md, *plot, *raw)
	return nil
}

func render(res *bench.Results, root, md, plot, raw string) error {
	png, err := report.Plot(res)
	if err != nil {
		return err
	}
	if err := write(under(root, plot), png); err != nil {
		return err
	}
	return write(under(root, md), []byte(report.Markdown(res, report.Links{Plot: plot, Results: raw})))
}

func parseList[T any](s string, parse func(string, int) (T, error)) ([]T, error) {
	var out []T
	for f := range strings.SplitSeq(s, ",") {
		v, err := parse(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// under resolves a relative path against the repository root.
func under(root, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(root, path)
}

func create(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return os.Create(path)
}

func write(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
