//go:build tools

// Package helm pins helm v3, built by hack/tools.sh into bin/helm for make helm-lint
// and the chart tests (test/chart). It is a module of its own so the product's go.mod
// does not gain helm's dependencies.
package helm

import _ "helm.sh/helm/v3/cmd/helm"
