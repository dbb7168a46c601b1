# Ambient Code agentic operator: admission webhook + slim operator.
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

ROOT := $(CURDIR)
BIN := $(ROOT)/bin
# envtest and the integration tests find kube-apiserver, etcd and kubectl here.
export KUBEBUILDER_ASSETS := $(BIN)
GO_TEST_FLAGS ?= -count=1 -timeout 40m
CONTROLLER_GEN := go tool controller-gen

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: ## Generate deepcopy code and CRDs (controller-gen, pinned in go.mod).
	$(CONTROLLER_GEN) object paths=./operator/api/...
	$(CONTROLLER_GEN) crd:allowDangerousTypes=true paths=./operator/api/... output:crd:artifacts:config=config/crd/bases

.PHONY: verify-generated
verify-generated: generate ## Fail when generated files are not current.
	@git diff --exit-code -- operator/api config/crd/bases || { echo "generated files are stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- operator/api config/crd/bases)" || { echo "untracked generated files: run 'make generate' and commit"; exit 1; }

.PHONY: fmt
fmt: ## gofmt the tree.
	gofmt -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## gofmt check and go vet, the fixture recorders (build tag record) included.
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	go vet ./...
	go vet -tags record ./webhook/...
	cd hack/scale && go vet ./...

.PHONY: controlplane
controlplane: ## Build kube-apiserver, kubectl v1.37.2 and etcd v3.6.16 into bin/ (once).
	hack/controlplane.sh

.PHONY: tools
tools: ## Build helm v3.22.0 and promtool (Prometheus 3.16) into bin/ (once).
	hack/tools.sh

.PHONY: chart-sync
chart-sync: ## Copy config/crd/bases, config/prometheus and config/policies into the chart (crds/, files/).
	rm -f charts/agentic-operator/crds/*.yaml
	cp config/crd/bases/*.yaml charts/agentic-operator/crds/
	cp config/prometheus/prometheusrule.yaml config/prometheus/dashboard.json charts/agentic-operator/files/
	@# The policies' resources, not their kustomize files.
	rm -f charts/agentic-operator/files/policies/*.yaml
	mkdir -p charts/agentic-operator/files/policies
	cp $(filter-out %/kustomization.yaml %/kustomizeconfig.yaml,$(wildcard config/policies/*.yaml)) charts/agentic-operator/files/policies/

.PHONY: helm-lint
helm-lint: ## helm lint the chart with default values, with everything enabled, and without the policies.
	@hack/tools.sh helm
	$(BIN)/helm lint --strict charts/agentic-operator
	$(BIN)/helm lint --strict charts/agentic-operator --set createNamespace=true,monitoring.serviceMonitor.enabled=true,monitoring.prometheusRule.enabled=true,monitoring.dashboard.enabled=true
	$(BIN)/helm lint --strict charts/agentic-operator --set policies.enabled=false
	$(BIN)/helm lint --strict charts/agentic-operator --set policies.mutating.enabled=false

.PHONY: build
build: ## Build the webhook and operator binaries into bin/.
	CGO_ENABLED=0 go build -trimpath -o $(BIN)/webhook ./cmd/webhook
	CGO_ENABLED=0 go build -trimpath -o $(BIN)/operator ./cmd/operator

##@ Test

.PHONY: test
test: controlplane tools helm-lint verify-generated vet build ## Run every test (unit, fixtures, fuzz seeds, real API server).
	go test $(GO_TEST_FLAGS) ./...
	@# The scale benchmark's own module: its smoke run keeps the harness from rotting.
	cd hack/scale && go test $(GO_TEST_FLAGS) ./...

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 30s).
	@for pkg in $$(go list ./...); do \
	  for f in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo ">> $$pkg $$f"; go test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-30s} $$pkg; \
	  done; \
	done

.PHONY: bench
bench: ## Go benchmarks of the admission handlers beside their floor.
	go test -run '^$$' -bench . -benchmem -count 5 ./webhook/...

.PHONY: bench-scale
bench-scale: controlplane build ## Scale benchmark at the vteam-uat profile (1x/2x/5x): writes BENCHMARKS.md (~30 min; BENCH_SCALE_FLAGS for more).
	cd hack/scale && go build -o $(BIN)/scale .
	$(BIN)/scale bench -root $(ROOT) $(BENCH_SCALE_FLAGS)

##@ Run

.PHONY: run
run: controlplane build ## Local control plane with webhook and operator installed, ready for kubectl.
	@# Same flags as build, so the packages compiled for the webhook and operator are reused.
	CGO_ENABLED=0 go build -trimpath -o $(BIN)/run ./hack/run
	@# Run the binary itself, not `go run`: go run exits 1 after any Ctrl-C.
	$(BIN)/run
