package probe

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain doubles as the probe worker: tests run real Workers with this
// test binary as their executable, as the daemon does with itself.
func TestMain(m *testing.M) {
	if IsWorker(os.Args) {
		os.Exit(WorkerMain(os.Args, os.Stdin, os.Stdout))
	}
	goleak.VerifyTestMain(m)
}
