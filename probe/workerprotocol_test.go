package probe

import (
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOutcomeProtocolRoundTrip(t *testing.T) {
	for _, o := range []Outcome{
		{Return: 0, Duration: 1500, ReturnedAt: 123456789},
		{Return: -1, Errno: syscall.ENOSYS, Duration: 300, ReturnedAt: 1},
		{Return: 4242, ReturnedAt: 1 << 62},
	} {
		got, err := parseOutcome(string(appendOutcome(nil, o)))
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

func TestParseRequest(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "39": 39, "335": 335, "1023": 1023} {
		if got, ok := parseRequest([]byte(in)); !ok || got != want {
			t.Errorf("parseRequest(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "-1", "1024", "99999", "3a", " 39", "39 "} {
		if got, ok := parseRequest([]byte(in)); ok {
			t.Errorf("parseRequest(%q) = %d, accepted", in, got)
		}
	}
}
