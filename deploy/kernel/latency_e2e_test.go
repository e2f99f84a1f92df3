//go:build e2e

package kernel

// The latency the classic histogram buckets are chosen from: the patched
// kernels, booted under QEMU (TCG, one vCPU) as in the rest of the matrix,
// run the daemon probing every latencyInterval, and the test reads each
// probe's syscall duration and kmsg delay from the daemon's debug log
// (schedule.ResultLog: duration_seconds, kmsg_delay_seconds). It logs the
// quantiles per kernel and checks that probe.SyscallBuckets and
// probe.KmsgDelayBuckets resolve them. TCG runs guest code several times
// slower than hardware, and a loaded runner slows it several-fold more: the
// checks leave room for that, not for a change of decade in the median.

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syscheckd/syscheckd/deploy/testbed"
	"github.com/syscheckd/syscheckd/probe"
)

// latencySamples is how many probes each kernel runs: enough for a p99 of
// one or two samples. SYSCHECKD_LATENCY_SAMPLES overrides it for a longer
// measurement.
const latencySamples = 120

// latencyInterval and latencyTimeout: probing ten times a second gives the
// samples in seconds; the timeout is over five times the slowest probe seen
// (15ms), and a probe that needs longer fails the test as a timeout.
const (
	latencyInterval = 100 * time.Millisecond
	latencyTimeout  = 90 * time.Millisecond
)

// latencyScript runs the daemon, logging every result to a file (not the
// console: a serial write per probe would slow the guest) until it holds
// @N@ results, and then prints them between markers.
const latencyScript = `#!/bin/sh
/bin/syscheckd --web.listen-address=:10335 --probe.interval=@INTERVAL@ --probe.timeout=@TIMEOUT@ --log.level=debug --log.format=json @FLAGS@ 2>/tmp/syscheckd.log &
pid=$!
while [ "$(grep -c '"msg":"probe' /tmp/syscheckd.log)" -lt @N@ ]; do
	sleep 1
	kill -0 $pid 2>/dev/null || break
done
kill $pid
wait $pid
echo "E2E-LATENCY: begin"
grep '"msg":"probe' /tmp/syscheckd.log
echo "E2E-LATENCY: end rc=$?"
`

var latencyLog = regexp.MustCompile(`(?ms)^E2E-LATENCY: begin\n(.*?)^E2E-LATENCY: end rc=\d+$`)

// latencyResult is one probe's line of the daemon's JSON log.
type latencyResult struct {
	Result    string   `json:"result"`
	Reason    string   `json:"reason"`
	Duration  *float64 `json:"duration_seconds"`
	KmsgDelay *float64 `json:"kmsg_delay_seconds"`
}

// measureLatency boots k, probes it n times and returns each successful
// probe's syscall duration and kmsg delay, in seconds; any other result
// fails the test.
func measureLatency(t *testing.T, k testbed.Kernel, binary string, n int) (syscall, kmsgDelay []float64) {
	t.Helper()
	script := strings.NewReplacer(
		"@INTERVAL@", latencyInterval.String(),
		"@TIMEOUT@", latencyTimeout.String(),
		"@FLAGS@", fmt.Sprintf("--probe.syscall=%d", k.Syscall),
		"@N@", strconv.Itoa(n),
	).Replace(latencyScript)
	g := testbed.Boot(t, k, testbed.Options{Run: script, Files: []string{binary}})
	// Boot (up to a minute under TCG on a loaded runner) and n probes.
	m := g.WaitConsole(t, latencyLog, 3*time.Minute+time.Duration(n)*latencyInterval*3)
	results := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(m[1]), "\n") {
		var r latencyResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("daemon log line %q: %v", line, err)
		}
		results[r.Result]++
		if r.Result != "success" {
			t.Errorf("a probe ended in %s (%s): a healthy patched kernel under TCG should answer within %s", r.Result, r.Reason, latencyTimeout)
			continue
		}
		if r.Duration == nil || r.KmsgDelay == nil {
			t.Fatalf("successful probe without duration_seconds or kmsg_delay_seconds: %s", line)
		}
		syscall = append(syscall, *r.Duration)
		kmsgDelay = append(kmsgDelay, *r.KmsgDelay)
	}
	if len(syscall) < n*9/10 {
		t.Fatalf("%d successful probes of %d logged (%v), want at least %d", len(syscall), n, results, n*9/10)
	}
	return syscall, kmsgDelay
}

// quantile is the q-quantile of sorted samples (nearest rank).
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// bucketOf returns the index of the classic bucket v falls in:
// i for (buckets[i-1], buckets[i]], len(buckets) for +Inf.
func bucketOf(buckets []float64, v float64) int {
	i, _ := slices.BinarySearch(buckets, v)
	return i
}

// bucketName is the bucket's range, as the le labels bound it.
func bucketName(buckets []float64, i int) string {
	lo, hi := "0", "+Inf"
	if i > 0 {
		lo = strconv.FormatFloat(buckets[i-1], 'g', -1, 64)
	}
	if i < len(buckets) {
		hi = strconv.FormatFloat(buckets[i], 'g', -1, 64)
	}
	return "(" + lo + ", " + hi + "]"
}

// histogramQuantile is what PromQL's histogram_quantile makes of samples
// counted in buckets: linear interpolation inside the bucket, 0 as the
// lowest bucket's lower bound, the highest finite bound for the +Inf one.
func histogramQuantile(buckets []float64, counts []int, q float64) float64 {
	total := 0
	for _, c := range counts {
		total += c
	}
	rank := q * float64(total)
	cum := 0
	for i, c := range counts {
		if float64(cum+c) >= rank && c > 0 {
			if i == len(buckets) {
				return buckets[len(buckets)-1]
			}
			lo := 0.0
			if i > 0 {
				lo = buckets[i-1]
			}
			return lo + (buckets[i]-lo)*(rank-float64(cum))/float64(c)
		}
		cum += c
	}
	return buckets[len(buckets)-1]
}

// latencyStats summarizes one kernel's samples of one histogram.
type latencyStats struct {
	sorted                  []float64
	min, p50, p90, p99, max float64
	counts                  []int // per classic bucket, +Inf last
}

func newLatencyStats(samples, buckets []float64) latencyStats {
	s := latencyStats{sorted: slices.Sorted(slices.Values(samples)), counts: make([]int, len(buckets)+1)}
	s.min, s.max = s.sorted[0], s.sorted[len(s.sorted)-1]
	s.p50, s.p90, s.p99 = quantile(s.sorted, 0.5), quantile(s.sorted, 0.9), quantile(s.sorted, 0.99)
	for _, v := range samples {
		s.counts[bucketOf(buckets, v)]++
	}
	return s
}

func (s latencyStats) row(name string) string {
	us := func(v float64) string { return strconv.FormatFloat(v*1e6, 'f', 1, 64) }
	return fmt.Sprintf("%-28s %5d %10s %10s %10s %10s %10s", name, len(s.sorted), us(s.min), us(s.p50), us(s.p90), us(s.p99), us(s.max))
}

func (s latencyStats) bucketCounts(buckets []float64) string {
	var b strings.Builder
	for i, c := range s.counts {
		fmt.Fprintf(&b, "  %-22s %4d\n", bucketName(buckets, i), c)
	}
	return b.String()
}

// checkResolved checks that buckets resolve the samples of s: every sample
// in a finite bucket (the largest finite bound must cover a healthy
// kernel's tail, which the probe timeout cuts), the median in a bucket
// above the lowest (whose range reaches down to 0), and the median and the
// p99 either in different buckets or each in a bucket no wider than a
// factor of maxRatio. It logs the bucket counts and the quantiles PromQL
// would estimate from them.
func checkResolved(t *testing.T, what string, s latencyStats, buckets []float64) {
	t.Helper()
	const maxRatio = 10.0
	top := buckets[len(buckets)-1]
	if s.max > top {
		t.Errorf("%s: the slowest sample, %gs, is above the largest finite bucket %g: %d of %d samples only in +Inf",
			what, s.max, top, s.counts[len(buckets)], len(s.sorted))
	}
	lo, hi := bucketOf(buckets, s.p50), bucketOf(buckets, s.p99)
	if lo == 0 {
		t.Errorf("%s: the median %gs falls in the lowest bucket %s, which cannot tell it from 0", what, s.p50, bucketName(buckets, 0))
	}
	width := func(i int) float64 {
		if i == 0 || i == len(buckets) {
			return math.Inf(1)
		}
		return buckets[i] / buckets[i-1]
	}
	// 1.0001: 0.01/0.001 is 10.000000000000002 in floating point.
	if lo == hi && width(lo) > maxRatio*1.0001 {
		t.Errorf("%s: the median %gs and the p99 %gs both fall in %s, a bucket wider than a factor of %g",
			what, s.p50, s.p99, bucketName(buckets, lo), maxRatio)
	}
	t.Logf("%s: median in %s, p99 in %s; histogram_quantile from the buckets: p50 %.3g, p90 %.3g, p99 %.3g (measured %.3g, %.3g, %.3g); counts:\n%s",
		what, bucketName(buckets, lo), bucketName(buckets, hi),
		histogramQuantile(buckets, s.counts, 0.5), histogramQuantile(buckets, s.counts, 0.9), histogramQuantile(buckets, s.counts, 0.99),
		s.p50, s.p90, s.p99, s.bucketCounts(buckets))
}

// TestLatencyBucketsResolvePatchedKernels measures the probe on each patched
// kernel and checks probe.SyscallBuckets and probe.KmsgDelayBuckets against
// the measurement. The kernels run one after the other, so that two TCG
// guests do not share the runner's cores while they are timed.
func TestLatencyBucketsResolvePatchedKernels(t *testing.T) {
	if !slices.Contains(probe.SyscallBuckets, 1e-3) {
		t.Errorf("probe.SyscallBuckets %v lacks 0.001, the SyscheckLatencyHigh threshold (deploy/mixin/config.libsonnet latencyThresholdSeconds): the p99 estimate would not be exact at the threshold", probe.SyscallBuckets)
	}
	for name, b := range map[string][]float64{"SyscallBuckets": probe.SyscallBuckets, "KmsgDelayBuckets": probe.KmsgDelayBuckets} {
		for i := range b {
			if b[i] <= 0 || math.IsInf(b[i], 0) || i > 0 && b[i] <= b[i-1] {
				t.Fatalf("probe.%s %v: want finite, positive, strictly increasing bounds", name, b)
			}
		}
	}
	n := latencySamples
	if s := os.Getenv("SYSCHECKD_LATENCY_SAMPLES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 10 {
			t.Fatalf("SYSCHECKD_LATENCY_SAMPLES=%q: want a number of probes, at least 10", s)
		}
		n = v
	}
	kernels := []struct {
		name   string
		kernel func(*testing.T) testbed.Kernel
		binary func(*testing.T) string
	}{
		{"x86_64 6.1", func(t *testing.T) testbed.Kernel { return patched(t, "6.1") }, syscheckdBinary},
		{"x86_64 6.12", func(t *testing.T) testbed.Kernel { return patched(t, "6.12") }, syscheckdBinary},
		{"arm64 6.1", func(t *testing.T) testbed.Kernel { return testbed.PatchedArch(t, "6.1", testbed.Arm64) }, arm64Syscheckd},
		{"arm64 6.12", func(t *testing.T) testbed.Kernel { return testbed.PatchedArch(t, "6.12", testbed.Arm64) }, arm64Syscheckd},
	}
	var table []string
	for _, kc := range kernels {
		t.Run(strings.ReplaceAll(kc.name, " ", "_"), func(t *testing.T) {
			k, binary := kc.kernel(t), kc.binary(t)
			start := time.Now()
			sc, kd := measureLatency(t, k, binary, n)
			syscall := newLatencyStats(sc, probe.SyscallBuckets)
			delay := newLatencyStats(kd, probe.KmsgDelayBuckets)
			table = append(table, syscall.row(kc.name+" syscall"), delay.row(kc.name+" kmsg delay"))
			t.Logf("%s (%s): %d successful probes every %s, boot included in %s", kc.name, k.Release, len(sc), latencyInterval, time.Since(start).Round(time.Second))
			checkResolved(t, kc.name+" syscall duration", syscall, probe.SyscallBuckets)
			checkResolved(t, kc.name+" kmsg delay", delay, probe.KmsgDelayBuckets)
		})
	}
	t.Logf("QEMU TCG guests, one vCPU; microseconds:\n%-28s %5s %10s %10s %10s %10s %10s\n%s",
		"kernel", "n", "min", "p50", "p90", "p99", "max", strings.Join(table, "\n"))
}
