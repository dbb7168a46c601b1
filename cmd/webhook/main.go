// Command webhook serves the ambient-code admission webhooks. Wiring only:
// the server lives in ./app, the handlers in package webhook.
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/manager/signals"

	"github.com/ambient-code/agentic-operator/cmd/webhook/app"
	"github.com/ambient-code/agentic-operator/webhook"
)

func main() {
	// The context ends on SIGTERM or SIGINT; a second signal exits at once.
	if err := app.Run(signals.SetupSignalHandler(), os.Args[1:], os.Stderr, routes); err != nil {
		fmt.Fprintf(os.Stderr, "webhook: %v\n", err)
		os.Exit(1)
	}
}

func routes(a app.Admission) map[string]http.Handler {
	return webhook.Routes(webhook.Options{Now: time.Now, Log: a.Log, RunnerCreators: a.RunnerCreators})
}
