// Package logging builds the operator's logger from controller-runtime's zap
// flags, without zap's sampler.
//
// controller-runtime wraps a production logger's core in zap's sampler, whose
// counters are a fixed 448 KiB table (7 levels x 4096 slots x 16 B) allocated
// up front: 4% of the operator's whole settled heap at the vteam-uat profile.
// The operator's logs are already bounded by what it does (one line per
// object written, rate-limited requeues), so the sampler buys little here.
package logging

import (
	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	crzap "sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// New returns the logger controller-runtime's zap.New would build from opts
// (encoder, level, stack traces, destination as the --zap-* flags set them),
// minus the sampler.
func New(opts ...crzap.Opts) logr.Logger {
	// RawZapOpts are applied before controller-runtime adds the sampler, so the
	// core seen here is the unsampled one; it then replaces the sampled core.
	var unsampled zapcore.Core
	capture := zap.WrapCore(func(c zapcore.Core) zapcore.Core { unsampled = c; return c })
	raw := crzap.NewRaw(append(opts, crzap.RawZapOpts(capture))...)
	return zapr.NewLogger(raw.WithOptions(zap.WrapCore(func(zapcore.Core) zapcore.Core { return unsampled })))
}
