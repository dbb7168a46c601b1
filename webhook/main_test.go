package webhook

import (
	"os"
	"testing"

	"github.com/go-logr/logr"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

func TestMain(m *testing.M) {
	// As cmd/webhook does with its real logger: until SetLogger is called,
	// controller-runtime's delegating logger queues every per-request child
	// logger, which would skew the benchmarks and grow without bound.
	logf.SetLogger(logr.Discard())
	os.Exit(m.Run())
}
