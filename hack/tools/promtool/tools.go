//go:build tools

// Package promtool pins Prometheus' promtool, built by hack/tools.sh into bin/promtool
// for the alert rule tests (config/prometheus/tests, run from test/chart). A module of
// its own so the product's go.mod does not gain Prometheus' dependencies.
package promtool

import _ "github.com/prometheus/prometheus/cmd/promtool"
