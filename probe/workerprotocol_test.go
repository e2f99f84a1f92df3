package probe

import (
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/syscheckd/syscheckd/probe/worker"
)

func TestOutcomeProtocolRoundTrip(t *testing.T) {
	for _, o := range []Outcome{
		{Return: 0, Duration: 1500, ReturnedAt: 123456789},
		{Return: -1, Errno: syscall.ENOSYS, Duration: 300, ReturnedAt: 1},
		{Return: 4242, ReturnedAt: 1 << 62},
	} {
		got, err := parseOutcome(string(worker.AppendOutcome(nil, o)))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(o, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

func TestParseOutcomeRejectsGarbage(t *testing.T) {
	for _, in := range []string{"", "1 2 3", "1 2 3 4 5", "a 0 1 2", "0 -1 1 2", "0 0 -5 2", "fatal error: unexpected signal"} {
		if _, err := parseOutcome(in); err == nil {
			t.Errorf("parseOutcome(%q) accepted", in)
		}
	}
}

// The worker refuses what the daemon's configuration refuses.
func TestWorkerAcceptsTheNumbersProbesAccept(t *testing.T) {
	if worker.MaxSyscall != MaxSyscall {
		t.Errorf("worker.MaxSyscall = %d, probe.MaxSyscall = %d", worker.MaxSyscall, MaxSyscall)
	}
}
