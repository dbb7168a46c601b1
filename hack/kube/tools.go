//go:build tools

// Package kube pins the control-plane binaries built by the Makefile.
package kube

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
