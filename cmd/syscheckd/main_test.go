package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// afterTests run once every test has: the integration tests remove the
// binary they built.
var afterTests []func()

func TestMain(m *testing.M) {
	flag.Parse()
	if fuzzing() {
		// Every fuzz worker process runs TestMain again; goleak would
		// count the coordinator's goroutines.
		os.Exit(m.Run())
	}
	code := m.Run()
	for _, f := range afterTests {
		f()
	}
	if code == 0 {
		// Keep-alive connections of http.Get are not leaks.
		http.DefaultClient.CloseIdleConnections()
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// fuzzing reports whether go test runs a fuzz target (-test.fuzz) or is
// one of its workers.
func fuzzing() bool {
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return true
		}
	}
	return false
}
