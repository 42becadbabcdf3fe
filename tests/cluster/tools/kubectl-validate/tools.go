//go:build tools

// Package tools pins sigs.k8s.io/kubectl-validate, which scripts/setup-cluster-tools builds into .tools/bin.
package tools

import _ "sigs.k8s.io/kubectl-validate"
