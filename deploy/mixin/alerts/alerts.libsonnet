// Alerting rules.
//
// Every alert carries:
//   labels.severity          critical (page) or warning (ticket, business hours)
//   annotations.summary      the notification title: one fixed text per alert
//                            name, without templates, so that it stays a
//                            common annotation when Alertmanager groups hosts
//                            (group_by: [alertname, release, machine]); it names no
//                            syscall, since the probe may be any configured one
//   annotations.description  the specifics: instance, job, probe, kernel
//                            release and machine, values, and a first step
//   annotations.runbook_url  the alert's section of the runbook
//                            (_config.runbookURLPattern, added below)
//
// The kernel release and machine (uname -m: x86_64, aarch64) come from a
// join with syscheck_kernel_info: labels release and machine, for routing
// and grouping a mixed fleet. Each join is followed by `or on(instance,
// job) <the same condition>` so that an alert never vanishes because the
// info series is missing; the description then says "unknown". When a
// target is down its series are stale, so SyscheckDown looks the release
// and machine up over the last hour with a template query. Template queries select with the alert's own job and instance
// labels, so they need no selector.
//
// keep_firing_for needs Prometheus >= 2.42.
local histogram = import '../lib/histogram.libsonnet';

{
  local cfg = $._config,
  local sel = cfg.syscheckdSelector,

  // The kernel release and machine in a description, "RELEASE (MACHINE)",
  // each "unknown" without kernel_info.
  local kernel = '{{ with $labels.release }}{{ . }}{{ else }}unknown{{ end }}'
                 + ' ({{ with $labels.machine }}{{ . }}{{ else }}unknown{{ end }})',

  // cond, with the kernel_info labels `infoLabels` joined in where the
  // host's syscheck_kernel_info exists, and cond alone where it does not.
  local withKernelInfo(cond, infoLabels='release, machine') =
    local lines = std.split(std.rstripChars(cond, '\n'), '\n');
    local wrapped =
      if std.length(lines) == 1 then '(%s)' % lines[0]
      else '(\n%s\n)' % std.join('\n', ['  ' + line for line in lines]);
    wrapped + '\n'
    + '  * on (instance, job) group_left (%s) syscheck_kernel_info{%s}\n' % [infoLabels, sel]
    + 'or on (instance, job)\n'
    + wrapped + '\n',

  local withRunbookURL(rule) =
    if std.objectHas(rule, 'alert')
    then rule { annotations+: { runbook_url: cfg.runbookURLPattern % std.asciiLower(rule.alert) } }
    else rule,

  local group(g) = g { rules: std.map(withRunbookURL, g.rules) },

  prometheusAlerts+:: {
    groups+: std.map(group, [
      {
        // Which kernel build each host runs, against the manifest that
        // kernel CI writes (syscheck_kernel_expected: 1 = in the manifest,
        // with the entry's name; 0 = not in it; absent = no manifest
        // configured), and whether the running kernel oopsed or warned.
        //
        // interval: 15s, half the recommended evaluation_interval, to keep
        // a wrong build's time to page under 60s (see
        // SyscheckKernelUnexpected). The group is cheap: one series per
        // host and metric. These alerts are not about probes: the build is
        // known from the first scrape, so they do not wait.
        name: 'syscheckd.kernel',
        interval: cfg.kernelGroupInterval,
        rules: [
          // Hosts per manifest entry (by entry name) that run that build.
          // The description of SyscheckKernelUnexpected reads it to say
          // which builds the rest of the job runs: a query of a few series
          // per alert instead of one over every host's series. A recording
          // rule among the alerts: in its own group it would run
          // concurrently with this one, and the description could show the
          // previous evaluation's counts; here it runs first, at the same
          // time.
          {
            record: 'job_name:syscheck_kernel_expected:count',
            expr: 'count by (job, name) (syscheck_kernel_expected{%s} == 1)' % sel,
          },

          // The host runs a kernel build whose build-id is not in the
          // manifest: a stock kernel, the previous custom build (a host
          // that did not reboot, or whose bootloader fell back), or a
          // kernel that does not tell its build-id. Hosts without a
          // manifest have no series: nothing fires for them.
          //
          // for: 0s. The verdict is exact from the first scrape: syscheckd
          // reads the build-id and loads the manifest before it serves
          // /metrics, the build cannot change without a reboot, and a
          // daemon restart does not expose a transient 0 (unlike
          // syscheck_syscall_available before the first probe). Waiting
          // would only delay the page. Time to page with the README's
          // intervals (scrape 30s, this group 15s, Alertmanager group_wait
          // 10s for this alert): at most 30s to the first scrape after
          // syscheckd starts + 15s to the next evaluation + 0s + 10s = 55s
          // (about 33s on average).
          //
          // keep_firing_for: 2m. A daemon restart on a wrong host leaves a
          // gap of a scrape or two (the series go stale): without it the
          // alert would resolve and fire again, and page again. The cost:
          // after a reboot into the right build the alert resolves 2m late.
          // Needs Prometheus >= 2.42 (keep_firing_for).
          {
            alert: 'SyscheckKernelUnexpected',
            expr: withKernelInfo('syscheck_kernel_expected{%s} == 0' % sel, 'build_id, release, machine'),
            'for': cfg.kernelUnexpectedFor,
            keep_firing_for: cfg.kernelUnexpectedKeepFiringFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'host runs a kernel build that is not in the manifest',
              description: std.join('', [
                '{{ $labels.instance }} (job {{ $labels.job }}) runs kernel build-id ',
                '{{ with $labels.build_id }}{{ . }}{{ else }}unknown{{ end }}, release ',
                kernel,
                ', which is not in its kernel manifest. Manifest builds running in job {{ $labels.job }}: ',
                '{{ range $i, $s := printf "topk(%(n)d, job_name:syscheck_kernel_expected:count{job=%%q})" $labels.job | query | sortByLabel "name" }}' % { n: cfg.kernelBuildsListed },
                '{{ if $i }}, {{ end }}{{ $s.Labels.name }} ({{ $s.Value }} host{{ if ne $s.Value 1.0 }}s{{ end }}){{ else }}none{{ end }}',
                '{{ with printf "count(job_name:syscheck_kernel_expected:count{job=%%q}) > %(n)d" $labels.job | query }} (the %(n)d most common of {{ . | first | value }}){{ end }}.' % { n: cfg.kernelBuildsListed },
                ' First step: run `syscheckd --probe.once` on the host (build-id and verdict), check its default boot entry and reboot into a manifest build.',
              ]),
            },
          },

          // The kernel's oops or warning count grew (/sys/kernel/oops_count,
          // /sys/kernel/warn_count: Linux >= 6.2 and Debian's 6.1; absent
          // elsewhere, and then nothing fires). The counts are gauges that
          // restart at 0 on reboot; increase() takes a drop for a counter
          // reset and counts the new value as growth. That is right both
          // ways: a reboot back to 0 adds 0 (quiet), a new boot that already
          // oopsed or warned before the first scrape (3 -> 1) adds 1
          // (fires). A daemon restart changes nothing (the counts are the
          // kernel's).
          // No for: an oops is an event, not a state; the alert lasts as
          // long as the growth is in the 10m window, then resolves. A reboot
          // that takes longer than 10m hides growth before the first scrape
          // of the new boot (no sample of the old boot left in the window).
          {
            alert: 'SyscheckKernelOops',
            expr: withKernelInfo(|||
              increase(syscheck_kernel_oops_count{%(sel)s}[%(w)s]) > 0
              or increase(syscheck_kernel_warn_count{%(sel)s}[%(w)s]) > 0
            ||| % { sel: sel, w: cfg.kernelOopsWindow }),
            'for': '0s',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'kernel logged an oops or a warning',
              description: std.join('', [
                '{{ $labels.instance }} (job {{ $labels.job }}, kernel %s): ' % kernel,
                "the kernel's oops or warning count grew in the last %s. Since boot: oops count " % cfg.kernelOopsWindow,
                '{{ with printf "syscheck_kernel_oops_count{job=%q,instance=%q}" $labels.job $labels.instance | query }}{{ . | first | value }}{{ else }}unknown{{ end }}, ',
                'warn count {{ with printf "syscheck_kernel_warn_count{job=%q,instance=%q}" $labels.job $labels.instance | query }}{{ . | first | value }}{{ else }}unknown{{ end }}, ',
                'taint mask {{ with printf "syscheck_kernel_tainted{job=%q,instance=%q}" $labels.job $labels.instance | query }}{{ . | first | value | printf "%.0f" }}{{ else }}unknown{{ end }}.',
                ' First step: read the oops or WARNING trace with `journalctl -k -b` (or `dmesg`); an oopsed kernel may be unstable: drain and reboot the host.',
              ]),
            },
          },
        ],
      },
      {
        name: 'syscheckd.alerts',
        rules: [
          // The host runs a kernel without the probed syscall: ENOSYS
          // (absent: a stock kernel) or the number belongs to an upstream
          // syscall (conflict: a wrong kernel, e.g. >= 6.11 where 335 is
          // uretprobe).
          // for: 2m. The outcome is decided by the booted kernel and cannot
          // change until the next reboot, so there is little to wait for;
          // 2m (about four consecutive probes) only rides out a daemon that
          // exposes 0 before its first probe and a reboot that lands on the
          // right kernel.
          {
            alert: 'SyscheckSyscallMissing',
            expr: withKernelInfo('syscheck_syscall_available{%s} == 0' % sel),
            'for': cfg.syscallMissingFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'kernel lacks the probed system call',
              description: std.join('', [
                '{{ $labels.instance }} (job {{ $labels.job }}, probe {{ $labels.probe }}) booted kernel %s, which lacks the probed syscall. ' % kernel,
                'Recent result: {{ range $i, $s := printf "sum by (result) (increase(syscheck_probes_total{job=%q,instance=%q,probe=%q,result=~\\"absent|conflict\\"}[10m])) > 0" $labels.job $labels.instance $labels.probe | query }}{{ if $i }}, {{ end }}{{ $s.Labels.result }}{{ else }}unknown{{ end }} ',
                '(absent = stock kernel, ENOSYS; conflict = the number is an upstream syscall: wrong kernel).',
                ' First step: check `uname -r` and the boot entry on the host; reboot into the patched kernel.',
              ]),
            },
          },

          // The syscall exists but probes fail: errno, unexpected_return,
          // kmsg_missing, timeout, crashed. One alert per failing result.
          // for: 5m. syscheck_probe_success == 0 must hold at every
          // evaluation for 5m, i.e. about ten consecutive probes failed; a
          // single failed probe (one scrape with success == 0) never fires,
          // and a flapping host (every other probe fails) does not either:
          // that is a ticket, not a page, and shows on the dashboard. The
          // increase() window is 5m so the failing result is still in view
          // when the alert fires.
          // Suppressed while /dev/kmsg is unreadable (SyscheckKmsgUnreadable
          // explains the kmsg_missing results) and when the syscall is
          // missing. increase() treats a counter that drops (daemon restart)
          // as a reset, so a restart does not look like new failures.
          {
            alert: 'SyscheckProbeFailing',
            expr: withKernelInfo(|||
              (
                sum by (job, instance, probe, result) (increase(syscheck_probes_total{%(sel)s, result!~"success|absent|conflict"}[%(w)s])) > 0
              )
              and on (job, instance, probe) (syscheck_probe_success{%(sel)s} == 0)
              and on (job, instance, probe) (syscheck_syscall_available{%(sel)s} == 1)
              unless on (job, instance) (syscheck_kmsg_up{%(sel)s} == 0)
            ||| % { sel: sel, w: cfg.probeWindow }),
            'for': cfg.probeFailingFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'probes of the system call fail',
              description: std.join('', [
                '{{ $labels.instance }} (job {{ $labels.job }}, probe {{ $labels.probe }}, kernel %s): the syscall is present ' % kernel,
                'but probes fail with result {{ $labels.result }} ({{ $value | humanize }} in the last %s).' % cfg.probeWindow,
                ' First step: read `journalctl -u syscheckd` for the failing result; compare with `dmesg | tail`.',
              ]),
            },
          },

          // The target does not answer scrapes (daemon stopped, host down
          // or unreachable). for: 5m: ten missed scrapes. A daemon restart
          // (a few seconds) or a host reboot (1-3 min) must not notify; a
          // host that stays down longer is worth a ticket. The series of a
          // down target are stale, so the last known kernel release and
          // machine are looked up over 1h.
          {
            alert: 'SyscheckDown',
            expr: 'up{%s} == 0' % sel,
            'for': cfg.downFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'syscheckd target is down',
              description: std.join('', [
                'Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}) for %s; ' % cfg.downFor,
                'last known kernel: {{ range $i, $s := printf "max by (release, machine) (last_over_time(syscheck_kernel_info{job=%q,instance=%q}[1h]))" $labels.job $labels.instance | query }}{{ if $i }}, {{ end }}{{ $s.Labels.release }} ({{ with $s.Labels.machine }}{{ . }}{{ else }}unknown{{ end }}){{ else }}unknown (unknown){{ end }}. ',
                'The state of its syscall is unknown.',
                ' First step: check the host is up, then `systemctl status syscheckd` and `curl -s localhost:10335/metrics`.',
              ]),
            },
          },

          // No syscheckd target at all: service discovery or the scrape
          // config is broken and the whole fleet is unwatched. A condition
          // of its own, not SyscheckDown's: it has no instance, its own
          // severity and its own runbook section. for: 10m covers a
          // Prometheus restart and a slow file_sd/DNS refresh.
          {
            alert: 'SyscheckTargetMissing',
            expr: 'absent(up{%s})' % sel,
            'for': cfg.targetMissingFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'no syscheckd target is scraped',
              description: std.join('', [
                'Prometheus has no target matching up{%s} for %s, ' % [sel, cfg.targetMissingFor],
                'so no instance and no kernel release is being watched.',
                ' First step: check the scrape config and service discovery (Status > Targets in Prometheus).',
              ]),
            },
          },

          // /dev/kmsg is not open: every probe will end kmsg_missing.
          // for: 5m. After a ring-buffer overrun the reader reopens
          // /dev/kmsg within seconds; only a reader that stays closed
          // (CAP_SYSLOG missing, ProtectKernelLogs=yes, dmesg_restrict) is
          // worth a ticket.
          {
            alert: 'SyscheckKmsgUnreadable',
            expr: withKernelInfo('syscheck_kmsg_up{%s} == 0' % sel),
            'for': cfg.kmsgUnreadableFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'syscheckd cannot read /dev/kmsg',
              description: std.join('', [
                '{{ $labels.instance }} (job {{ $labels.job }}, kernel %s) has not been reading /dev/kmsg ' % kernel,
                'for %s, so no probe can be confirmed (results: kmsg_missing).' % cfg.kmsgUnreadableFor,
                ' First step: check the unit has CAP_SYSLOG and no ProtectKernelLogs=yes; `journalctl -u syscheckd` for the open error.',
              ]),
            },
          },

          // Kernel log records were lost (ring buffer overrun before
          // syscheckd read them). A single overrun (boot, OOM storm) is
          // normal and must not notify: the 10m increase is > 0 for 10m
          // after one loss, so `for: 30m` fires only when losses recur at
          // least every 10 minutes for half an hour: the buffer is too
          // small or the reader too slow.
          {
            alert: 'SyscheckKmsgRecordsLost',
            expr: withKernelInfo('increase(syscheck_kmsg_lost_records_total{%s}[%s]) > 0' % [sel, cfg.kmsgLostWindow]),
            'for': cfg.kmsgRecordsLostFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'syscheckd keeps losing kernel log records',
              description: std.join('', [
                '{{ $labels.instance }} (job {{ $labels.job }}, kernel %s) lost {{ $value | humanize }} ' % kernel,
                '/dev/kmsg records in the last %s, repeatedly for %s; probes may be reported kmsg_missing.' % [cfg.kmsgLostWindow, cfg.kmsgRecordsLostFor],
                ' First step: find who floods the kernel log (`dmesg | tail -100`); raise log_buf_len= on the kernel command line.',
              ]),
            },
          },

          // p99 syscall latency above 1 ms (a bucket boundary, so the
          // estimate is exact at the threshold). With one probe per 30s the
          // 5m p99 is the slowest of about ten calls, so one slow call would
          // trip it: for: 15m requires three windows of slow calls in a row.
          // A healthy patched kernel takes a few microseconds on hardware,
          // 75-175us (p50-p99) under QEMU TCG (deploy/kernel's latency
          // test, 2026-11-30), which is why the classic buckets stop at
          // 25us at the low end (probe/metrics.go). The quantile reads the
          // native histogram, or the classic buckets without one
          // (lib/histogram.libsonnet).
          {
            alert: 'SyscheckLatencyHigh',
            expr: withKernelInfo(
              local q = histogram.quantiles(cfg.latencyQuantile, 'syscheck_syscall_duration_seconds', ['job', 'instance', 'probe'], sel, cfg.probeWindow);
              '(\n  %s\n  or %s\n) > %g' % [q[0], q[1], cfg.latencyThresholdSeconds]
            ),
            'for': cfg.latencyHighFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'probed system call is slow',
              description: std.join('', [
                '{{ $labels.instance }} (job {{ $labels.job }}, probe {{ $labels.probe }}, kernel %s): ' % kernel,
                'p%(p)g syscall latency is {{ $value | humanizeDuration }} (threshold {{ %(t)g | humanizeDuration }}) for %(for)s.'
                % { p: cfg.latencyQuantile * 100, t: cfg.latencyThresholdSeconds, 'for': cfg.latencyHighFor },
                ' First step: check the console loglevel (a synchronous serial console slows printk) and host load.',
              ]),
            },
          },

          // The daemon answers scrapes but has stopped probing (scheduler
          // stuck): the gauges then freeze at their last value and no other
          // alert would fire. Pre-created counters make the sum exist from
          // the start. for: 5m on top of a 5m window: 10 missed probe
          // intervals at least.
          {
            alert: 'SyscheckProbesStalled',
            expr: withKernelInfo('sum by (job, instance, probe) (increase(syscheck_probes_total{%s}[%s])) == 0' % [sel, cfg.probeWindow]),
            'for': cfg.probesStalledFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'syscheckd stopped probing',
              description: std.join('', [
                '{{ $labels.instance }} (job {{ $labels.job }}, probe {{ $labels.probe }}, kernel %s) ' % kernel,
                'ran no probe in any %s window for %s although it is scraped; its gauges are frozen.' % [cfg.probeWindow, cfg.probesStalledFor],
                ' First step: restart syscheckd and keep `journalctl -u syscheckd` and a goroutine dump (SIGQUIT) for the developers.',
              ]),
            },
          },

          // The last reload of the configuration file failed (SIGHUP,
          // systemctl reload or POST /-/reload with a file syscheckd
          // rejects). The daemon keeps probing with the configuration it
          // had, so nothing is unwatched yet; but the change did not take
          // effect, and a restart with this file would fail to start.
          // for: 10m: an operator who fixes the file and reloads again at
          // once is not notified.
          {
            alert: 'SyscheckConfigReloadFailed',
            expr: 'syscheck_config_last_reload_successful{%s} == 0' % sel,
            'for': cfg.configReloadFailedFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'syscheckd rejected its configuration file',
              description: std.join('', [
                '{{ $labels.instance }} (job {{ $labels.job }}) failed to reload its configuration and keeps probing with the one it loaded ',
                '{{ with printf "time() - syscheck_config_last_reload_success_timestamp_seconds{job=%q,instance=%q}" $labels.job $labels.instance | query }}{{ . | first | value | humanizeDuration }} ago{{ else }}at an unknown time{{ end }}. ',
                'A restart with the current file would fail.',
                ' First step: run `syscheckd --config.check --config.file=FILE` (or read `journalctl -u syscheckd`) for the error, fix the file, `systemctl reload syscheckd`.',
              ]),
            },
          },
        ],
      },
    ]),
  },
}
