// Package chart tests the Helm chart (charts/agentic-operator) and the monitoring
// (config/prometheus): helm lint and template against kustomize's config/default
// object by object, the chart installed on a real API server with cert-manager's
// cainjector, the alert rules under promtool, and every metric the dashboard and
// the alerts name against a scrape of the running webhook and operator.
//
// helm and promtool come from hack/tools.sh (make tools; make test builds them),
// the control plane from make controlplane, bin/webhook and bin/operator from
// make build. Where make test runs (KUBEBUILDER_ASSETS set) a missing binary fails
// the test; elsewhere it skips saying what to build.
package chart
