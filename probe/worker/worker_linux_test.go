package worker

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

// The worker runs with the collector off for as long as the daemon: its
// loop must not allocate per call, or it would grow without bound.
func TestWorkerLoopDoesNotAllocate(t *testing.T) {
	src := &repeatReader{line: []byte("39\n")}
	in := bufio.NewReaderSize(src, 64)
	buf := make([]byte, 0, 96)
	var calls int
	out := writerFunc(func(p []byte) (int, error) { calls++; return len(p), nil })
	allocs := testing.AllocsPerRun(20, func() {
		src.n = 50
		in.Reset(src)
		if code := serve(in, out, buf); code != 0 {
			t.Fatalf("serve = %d", code)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per 50 calls, want 0", allocs)
	}
	if calls != 21*50 {
		t.Errorf("%d answers written, want %d", calls, 21*50)
	}
}

func TestWorkerLoopStopsOnBadRequests(t *testing.T) {
	for in, want := range map[string]int{"": 0, "abc\n": 2, "1024\n": 2, "-1\n": 2, "39": 3, strings.Repeat("1", 100) + "\n": 3} {
		var out strings.Builder
		if code := serve(bufio.NewReaderSize(strings.NewReader(in), 64), &out, nil); code != want {
			t.Errorf("serve(%q) = %d, want %d", in, code, want)
		}
	}
}

func TestWorkerMainRejectsBadArguments(t *testing.T) {
	for _, args := range [][]string{{"x"}, {"x", Arg, "39"}} {
		var out strings.Builder
		if code := Main(args, strings.NewReader(""), &out); code != 2 {
			t.Errorf("Main(%q) = %d, want 2", args, code)
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

// repeatReader yields line n times, then end of file, without allocating.
type repeatReader struct {
	line []byte
	n    int
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	c := copy(p, r.line[r.off:])
	if r.off += c; r.off == len(r.line) {
		r.off, r.n = 0, r.n-1
	}
	return c, nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
