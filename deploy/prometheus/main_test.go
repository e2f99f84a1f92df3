package prometheus

import (
	"testing"

	"go.uber.org/goleak"
)

// The files this package ships, read by the tests of every tier.
const (
	rulesFile = "syscheckd.rules.yml"
	testFile  = "syscheckd.rules.test.yml"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
