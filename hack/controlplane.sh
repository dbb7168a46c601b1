#!/usr/bin/env bash
# Builds kube-apiserver, kubectl (v1.37.2) and etcd (v3.6.16) from Go modules into
# bin/, once: a binary already present at the right version is kept. Idempotent, so
# every test and run target can depend on it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN_DIR:-$root/bin}
kube_version=v1.37.2
etcd_version=3.6.16
mkdir -p "$bin"

stamp="-X k8s.io/component-base/version.gitVersion=$kube_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 -X k8s.io/component-base/version.gitTreeState=clean"
kubectl_stamp="$stamp -X k8s.io/client-go/pkg/version.gitVersion=$kube_version -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=37"

has_version() { # binary, version-args, expected substring
  local out
  [ -x "$1" ] || return 1
  # Capture first: grep -q quitting early would SIGPIPE the binary and, under
  # pipefail, fail the check.
  out=$("$1" $2 2>/dev/null) || return 1
  grep -q -- "$3" <<<"$out"
}

build() { # dir, package, output, ldflags
  echo ">> building $(basename "$3") from $2"
  (cd "$root/hack/$1" && CGO_ENABLED=0 go build -trimpath -o "$3.tmp" -ldflags "$4" "$2")
  mv "$3.tmp" "$3"
}

has_version "$bin/kube-apiserver" --version "Kubernetes $kube_version" ||
  build kube k8s.io/kubernetes/cmd/kube-apiserver "$bin/kube-apiserver" "$stamp"
has_version "$bin/kubectl" "version --client" "Client Version: $kube_version" ||
  build kube k8s.io/kubernetes/cmd/kubectl "$bin/kubectl" "$kubectl_stamp"
has_version "$bin/etcd" --version "etcd Version: $etcd_version" ||
  build etcd go.etcd.io/etcd/server/v3 "$bin/etcd" ""
echo ">> control plane ready in $bin: kube-apiserver $kube_version, kubectl $kube_version, etcd $etcd_version"
