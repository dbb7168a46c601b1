// Package heap measures what a cache configuration costs in heap, each in a child
// process of its own so that heaps never mix: the heap in use after two GCs minus
// the process's heap before the caches started, sampled after the configuration has
// synced and settled.
package heap

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"k8s.io/client-go/rest"
)

// Running is a started configuration.
type Running struct {
	// Objects counts what the configuration's caches hold, by kind.
	Objects func(ctx context.Context) (map[string]int, error)
}

// Configuration is one way of running the operator's caches (and maybe its
// reconcilers) to measure.
type Configuration struct {
	Name        string
	Description string
	// Start starts the configuration against cfg and returns once its caches have
	// synced; it runs until ctx is done.
	Start func(ctx context.Context, cfg *rest.Config) (Running, error)
}

var registry = map[string]Configuration{}

// Register makes c measurable by name; configurations register in init functions.
func Register(c Configuration) {
	if _, dup := registry[c.Name]; dup {
		panic(fmt.Sprintf("heap configuration %q registered twice", c.Name))
	}
	registry[c.Name] = c
}

// Lookup returns the configuration called name.
func Lookup(name string) (Configuration, error) {
	c, ok := registry[name]
	if !ok {
		return Configuration{}, fmt.Errorf("unknown heap configuration %q (known: %v)", name, Names())
	}
	return c, nil
}

// Names lists the registered configurations.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return slices.Clip(names)
}
