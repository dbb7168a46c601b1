#!/usr/bin/env bash
# Builds helm (v3.22.0) and promtool (Prometheus v0.316.0 module) from their Go
# modules under hack/tools into bin/, once: a binary already present at the right
# version is kept. Idempotent, so make test and make helm-lint can depend on it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN_DIR:-$root/bin}
helm_version=v3.22.0
prom_version=3.16.0
kube_minor=1.37
mkdir -p "$bin"

has_version() { # binary, version-args, expected substring
  local out
  [ -x "$1" ] || return 1
  out=$("$1" $2 2>/dev/null) || return 1
  grep -q -- "$3" <<<"$out"
}

build() { # module dir, package, output, ldflags
  echo ">> building $(basename "$3") from $2"
  local start=$SECONDS
  (cd "$root/hack/tools/$1" && CGO_ENABLED=0 go build -trimpath -o "$3.tmp" -ldflags "$4" "$2")
  mv "$3.tmp" "$3"
  echo ">> built $(basename "$3") in $((SECONDS - start))s"
}

what=${1:-all}
if [ "$what" = all ] || [ "$what" = helm ]; then
  # As helm's own Makefile: the Kubernetes version helm template and lint assume
  # is the client-go minor helm is built with (1.37), else it is 1.20. The
  # metadata "k8s1.37" makes that visible in `helm version --short`.
  has_version "$bin/helm" "version --short" "$helm_version+k8s$kube_minor" ||
    build helm helm.sh/helm/v3/cmd/helm "$bin/helm" \
      "-X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.metadata=k8s$kube_minor -X helm.sh/helm/v3/internal/version.gitTreeState=clean -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37"
fi
if [ "$what" = all ] || [ "$what" = promtool ]; then
  has_version "$bin/promtool" --version "promtool, version $prom_version" ||
    build promtool github.com/prometheus/prometheus/cmd/promtool "$bin/promtool" \
      "-X github.com/prometheus/common/version.Version=$prom_version -X github.com/prometheus/common/version.Branch=HEAD"
fi
