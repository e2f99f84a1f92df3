package kernel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

var testIdentity = Identity{
	Release: "6.1.119-syscheck1", Version: "#1 SMP PREEMPT_DYNAMIC", Machine: "x86_64",
	BuildID: realBuildID, ConfigDigest: configDigest, Lockdown: "integrity",
}

const infoText = `# HELP syscheck_kernel_info The running kernel: uname(2) and the GNU build-id of /sys/kernel/notes (empty if unreadable); always 1.
# TYPE syscheck_kernel_info gauge
syscheck_kernel_info{build_id="24a3598fd700114d0a1b1a4871badcee75d0acac",machine="x86_64",release="6.1.119-syscheck1",version="#1 SMP PREEMPT_DYNAMIC"} 1
`

const expectedHelp = `# HELP syscheck_kernel_expected 1 if the running kernel's build-id is in the manifest (name is its entry), 0 if not (name is empty); absent without a manifest.
# TYPE syscheck_kernel_expected gauge
`

const healthText = `# HELP syscheck_kernel_oops_count Oopses since boot, from /sys/kernel/oops_count; absent where the kernel lacks the file.
# TYPE syscheck_kernel_oops_count gauge
syscheck_kernel_oops_count 1
# HELP syscheck_kernel_tainted The kernel's taint mask, from /proc/sys/kernel/tainted; 0 if untainted.
# TYPE syscheck_kernel_tainted gauge
syscheck_kernel_tainted 12928
# HELP syscheck_kernel_warn_count Kernel warnings since boot, from /sys/kernel/warn_count; absent where the kernel lacks the file.
# TYPE syscheck_kernel_warn_count gauge
syscheck_kernel_warn_count 2
`

func manifest(name string, matched, configured bool) func() (string, bool, bool) {
	return func() (string, bool, bool) { return name, matched, configured }
}

func TestCollector(t *testing.T) {
	tests := []struct {
		name     string
		id       Identity
		root     string
		expected func() (string, bool, bool)
		want     string
	}{
		{
			name:     "expected build",
			id:       testIdentity,
			root:     "testdata/root",
			expected: manifest("6.1-syscheckd-2026-11-30", true, true),
			want:     expectedHelp + "syscheck_kernel_expected{name=\"6.1-syscheckd-2026-11-30\"} 1\n" + infoText + healthText,
		},
		{
			name:     "build not in the manifest",
			id:       testIdentity,
			root:     "testdata/root",
			expected: manifest("ignored when not matched", false, true),
			want:     expectedHelp + "syscheck_kernel_expected{name=\"\"} 0\n" + infoText + healthText,
		},
		{
			name:     "no manifest",
			id:       testIdentity,
			root:     "testdata/root",
			expected: manifest("", false, false),
			want:     infoText + healthText,
		},
		{
			name: "no expected func",
			id:   testIdentity,
			root: "testdata/root",
			want: infoText + healthText,
		},
		{
			name:     "kernel before 6.2",
			id:       testIdentity,
			root:     "testdata/old",
			expected: manifest("", false, false),
			want: infoText + `# HELP syscheck_kernel_tainted The kernel's taint mask, from /proc/sys/kernel/tainted; 0 if untainted.
# TYPE syscheck_kernel_tainted gauge
syscheck_kernel_tainted 0
`,
		},
		{
			name:     "nothing readable",
			id:       Identity{Release: "r\xff", Version: "v", Machine: "m"},
			root:     "testdata/missing",
			expected: manifest("", false, true),
			want: expectedHelp + "syscheck_kernel_expected{name=\"\"} 0\n" + `# HELP syscheck_kernel_info The running kernel: uname(2) and the GNU build-id of /sys/kernel/notes (empty if unreadable); always 1.
# TYPE syscheck_kernel_info gauge
syscheck_kernel_info{build_id="",machine="m",release="r` + "\uFFFD" + `",version="v"} 1
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Pedantic: every metric collected must match a described desc.
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(NewCollector(tt.id, tt.root, tt.expected))
			if err := testutil.GatherAndCompare(reg, strings.NewReader(tt.want)); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestCollectorReadsHealthAtScrape follows the files: counts grow, and an
// unreadable file drops its series rather than repeat an old value.
func TestCollectorReadsHealthAtScrape(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(taintedPath, "0\n")
	write(warnCountPath, "0\n")
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(testIdentity, root, nil))
	names := []string{"syscheck_kernel_tainted", "syscheck_kernel_warn_count", "syscheck_kernel_oops_count"}
	compare := func(want string) {
		t.Helper()
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
			t.Error(err)
		}
	}
	compare(`# HELP syscheck_kernel_tainted The kernel's taint mask, from /proc/sys/kernel/tainted; 0 if untainted.
# TYPE syscheck_kernel_tainted gauge
syscheck_kernel_tainted 0
# HELP syscheck_kernel_warn_count Kernel warnings since boot, from /sys/kernel/warn_count; absent where the kernel lacks the file.
# TYPE syscheck_kernel_warn_count gauge
syscheck_kernel_warn_count 0
`)
	write(taintedPath, "512\n")
	write(warnCountPath, "1\n")
	compare(`# HELP syscheck_kernel_tainted The kernel's taint mask, from /proc/sys/kernel/tainted; 0 if untainted.
# TYPE syscheck_kernel_tainted gauge
syscheck_kernel_tainted 512
# HELP syscheck_kernel_warn_count Kernel warnings since boot, from /sys/kernel/warn_count; absent where the kernel lacks the file.
# TYPE syscheck_kernel_warn_count gauge
syscheck_kernel_warn_count 1
`)
	write(warnCountPath, "garbled\n")
	compare(`# HELP syscheck_kernel_tainted The kernel's taint mask, from /proc/sys/kernel/tainted; 0 if untainted.
# TYPE syscheck_kernel_tainted gauge
syscheck_kernel_tainted 512
`)
}

// TestCollectorLint runs promlint over every series. The contract fixes
// two gauge names ending in _count, after the kernel's files; promlint
// reserves that suffix for histograms and summaries, so exactly those two
// problems are expected.
func TestCollectorLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(testIdentity, "testdata/root", manifest("x", true, true)))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 5 {
		t.Errorf("%d metric families, want 5", len(mfs))
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"syscheck_kernel_oops_count": true, "syscheck_kernel_warn_count": true}
	for _, p := range problems {
		if allowed[p.Metric] && p.Text == `non-histogram and non-summary metrics should not have "_count" suffix` {
			continue
		}
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	if len(problems) != len(allowed) {
		t.Errorf("promlint: %d problems, want the %d allowed: %v", len(problems), len(allowed), problems)
	}
}
