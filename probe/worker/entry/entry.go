// Package entry turns the process into a probe worker before the rest of
// the program is initialised, when its arguments ask for one
// (worker.IsWorker). Import it for that effect alone, from the main
// package of the binary the daemon re-executes as its worker.
//
// Go runs every linked package's initialisers before main: in syscheckd,
// those of about 300 packages (Prometheus' client, protobuf, YAML, HTTP,
// templates) that a worker never uses, which allocated about 0.5 MB the
// worker kept for life (its collector is off) and cost about 2 ms of its
// start. Go initialises a package as soon as what it imports is (ordering
// ready packages by import path), so this package's initialiser runs after
// the few packages worker imports and before those it does not, and never
// returns in a worker.
package entry

import (
	"os"

	"github.com/syscheckd/syscheckd/probe/worker"
)

func init() {
	if worker.IsWorker(os.Args) {
		os.Exit(worker.Main(os.Args, os.Stdin, os.Stdout))
	}
}
