package main

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	"github.com/syscheckd/syscheckd/cmd/syscheckd/internal/config"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/schedule"
)

// options is everything the command line sets.
type options struct {
	// probe is the single probe the --probe.* flags define; it is unused
	// when configFile is set.
	probe       probe.Config
	configFile  string
	configCheck bool
	web         *web.FlagConfig
	log         *promslog.Config
	once        bool
	output      string
	// manifest is --kernel.manifest; the others serve --kernel.print-entry.
	manifest   string
	printEntry bool
	vmlinux    string
	entryName  string
	release    string
	// lifecycle turns on POST /-/reload, as Prometheus's
	// --web.enable-lifecycle does: anyone who can connect could otherwise
	// make the daemon reread its file at will.
	lifecycle bool
	metrics   metricsOptions
	// historyLimit is how many results per probe the page at / keeps.
	historyLimit int
}

// metricsOptions are the /metrics endpoint's flags, named as
// node_exporter's but for --web.enable-exporter-metrics, whose default is
// the opposite of node_exporter's.
type metricsOptions struct {
	path string
	// maxRequests bounds concurrent scrapes; 0 means no bound.
	maxRequests int
	// exporterMetrics adds go_*, process_* and promhttp_* about syscheckd
	// itself to what the kernel checks export. Off by default: they would
	// more than double each host's series (docs/scale.md).
	exporterMetrics bool
}

// parseFlags turns the command line into options, or the one error that
// stops syscheckd from starting.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	return newCommandLine(stderr).parse(args)
}

// commandLine is the flags' definition and where each lands once parsed.
type commandLine struct {
	app  *kingpin.Application
	opts options
	// setByUser records which --probe.* flags the user set: they define
	// the probe only without --config.file, and must not be ignored
	// silently.
	setByUser map[string]*bool
	pattern   *string
}

func newCommandLine(stderr io.Writer) *commandLine {
	app := kingpin.New("syscheckd", "Probes a custom system call and exports the results as Prometheus metrics.")
	app.Version(version.Print("syscheckd"))
	app.HelpFlag.Short('h')
	app.UsageWriter(stderr)
	app.ErrorWriter(stderr)

	cl := &commandLine{app: app, opts: options{log: &promslog.Config{Writer: stderr}}, setByUser: map[string]*bool{}}
	opts := &cl.opts
	flag.AddFlags(app, opts.log)
	opts.web = kingpinflag.AddFlags(app, ":10335")

	app.Flag("config.file", "YAML file listing the probes to run (the packages install a commented example as /etc/syscheckd/syscheckd.yml). Without it, the --probe.* flags define one probe. Reloaded on SIGHUP, and on POST /-/reload with --web.enable-lifecycle.").PlaceHolder("FILE").StringVar(&opts.configFile)
	app.Flag("web.enable-lifecycle", "Enable reloading --config.file through POST /-/reload. SIGHUP reloads either way.").BoolVar(&opts.lifecycle)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&opts.metrics.path)
	app.Flag("web.enable-exporter-metrics", "Include metrics about syscheckd itself (go_*, process_*, promhttp_*): about 50 series more per host.").BoolVar(&opts.metrics.exporterMetrics)
	typedFlag(app, "web.max-requests", "Maximum number of parallel scrape requests. Use 0 to disable.", "40", &opts.metrics.maxRequests, strconv.Atoi)
	typedFlag(app, "history.limit", fmt.Sprintf("Results of each probe the page at / keeps (1..%d).", schedule.MaxHistoryLimit), strconv.Itoa(schedule.DefaultHistoryLimit), &opts.historyLimit, strconv.Atoi)
	app.Flag("config.check", "Check --config.file and exit: 0 if it is valid, 2 with the line and field at fault otherwise.").BoolVar(&opts.configCheck)

	set := func(name string) *bool {
		cl.setByUser[name] = new(bool)
		return cl.setByUser[name]
	}
	cfg := &opts.probe
	app.Flag("probe.name", "Value of the probe label.").Default("getProcessInfo").IsSetByUser(set("probe.name")).StringVar(&cfg.Name)
	typedFlag(app, "probe.syscall", "System call number to probe (0..1023), called without arguments.", "335", &cfg.Syscall, strconv.Atoi).IsSetByUser(set("probe.syscall"))
	app.Flag("probe.symbol", `System call name to look for in /proc/kallsyms before calling (as sys_NAME or __x64_sys_NAME). "" turns the check off.`).Default("getProcessInfo").IsSetByUser(set("probe.symbol")).StringVar(&cfg.Symbol)
	typedFlag(app, "probe.expect-return", "Return value of a working call.", "0", &cfg.ExpectReturn, parseInt64).IsSetByUser(set("probe.expect-return"))
	cl.pattern = app.Flag("probe.kmsg-pattern", "Regular expression (Go syntax) the first line of the call's kernel log record must match.").Default("^getProcessInfo - hey there$").IsSetByUser(set("probe.kmsg-pattern")).String()
	typedFlag(app, "probe.interval", "Time between probes.", "30s", &cfg.Interval, time.ParseDuration).IsSetByUser(set("probe.interval"))
	typedFlag(app, "probe.timeout", "Time a probe may take: the call and the wait for its kernel record. Must be shorter than the interval.", "5s", &cfg.Timeout, time.ParseDuration).IsSetByUser(set("probe.timeout"))
	app.Flag("kernel.manifest", "YAML file of the kernel builds this host may run (kernel CI writes it; see --kernel.print-entry). Reloaded with --config.file.").PlaceHolder("FILE").StringVar(&opts.manifest)
	app.Flag("kernel.print-entry", "Print the manifest entry of --kernel.vmlinux, or of the running kernel, and exit.").BoolVar(&opts.printEntry)
	app.Flag("kernel.vmlinux", "vmlinux ELF file whose build-id --kernel.print-entry prints.").PlaceHolder("FILE").StringVar(&opts.vmlinux)
	app.Flag("kernel.entry-name", "Name of the entry --kernel.print-entry prints (default: the release).").StringVar(&opts.entryName)
	app.Flag("kernel.release", "Release (uname -r) of the entry --kernel.print-entry prints.").StringVar(&opts.release)
	app.Flag("probe.once", "Run one probe, print a report and exit: 0 on success, 1 on failure.").BoolVar(&opts.once)
	app.Flag("output", "Report format for --probe.once.").Default("text").EnumVar(&opts.output, "text", "json")
	return cl
}

func (cl *commandLine) parse(args []string) (options, error) {
	opts, cfg := &cl.opts, &cl.opts.probe
	if _, err := cl.app.Parse(args); err != nil {
		return options{}, err
	}
	if opts.configFile != "" {
		for _, name := range []string{"probe.name", "probe.syscall", "probe.symbol", "probe.expect-return", "probe.kmsg-pattern", "probe.interval", "probe.timeout"} {
			if *cl.setByUser[name] {
				return options{}, fmt.Errorf("--%s: the probes come from --config.file; set this in the file", name)
			}
		}
		if opts.once {
			return options{}, errors.New("--probe.once: runs the --probe.* flags' probe; with --config.file, use GET /probe?name=NAME")
		}
	} else if opts.configCheck {
		return options{}, errors.New("--config.check: needs --config.file")
	}
	re, err := regexp.Compile(*cl.pattern)
	if err != nil {
		return options{}, fmt.Errorf("--probe.kmsg-pattern: %w", err)
	}
	cfg.Pattern = re
	if err := cfg.Validate(); err != nil {
		return options{}, fmt.Errorf("probe: %w", err)
	}
	if !opts.printEntry && (opts.vmlinux != "" || opts.entryName != "" || opts.release != "") {
		return options{}, errors.New("--kernel.vmlinux, --kernel.entry-name and --kernel.release: only with --kernel.print-entry")
	}
	if !opts.once && !opts.configCheck && !opts.printEntry {
		if err := checkWebFlags(opts.web); err != nil {
			return options{}, err
		}
		if err := checkMetricsFlags(opts.metrics); err != nil {
			return options{}, err
		}
		if opts.historyLimit < 1 || opts.historyLimit > schedule.MaxHistoryLimit {
			return options{}, fmt.Errorf("--history.limit: %d is out of range 1..%d", opts.historyLimit, schedule.MaxHistoryLimit)
		}
	}
	return *opts, nil
}

// typedFlag adds a flag whose parse errors name the flag: kingpin's own
// typed flags report only "time: invalid duration", which leaves the
// operator guessing which of several flags is wrong.
func typedFlag[T any](app *kingpin.Application, name, help, def string, p *T, parse func(string) (T, error)) *kingpin.FlagClause {
	f := app.Flag(name, help).Default(def)
	f.SetValue(&typedValue[T]{name: name, p: p, parse: parse})
	return f
}

type typedValue[T any] struct {
	name  string
	p     *T
	parse func(string) (T, error)
}

func (v *typedValue[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		return fmt.Errorf("--%s: %w", v.name, err)
	}
	*v.p = x
	return nil
}

func (v *typedValue[T]) String() string { return fmt.Sprint(*v.p) }

func parseInt64(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }

// reservedPaths are served by syscheckd itself: metrics there would hide them.
var reservedPaths = []string{"/", "/probe", "/-/reload", "/-/healthy", "/-/ready"}

func checkMetricsFlags(m metricsOptions) error {
	switch {
	case !strings.HasPrefix(m.path, "/"):
		return fmt.Errorf("--web.telemetry-path: %q must start with /", m.path)
	case slices.Contains(reservedPaths, m.path):
		return fmt.Errorf("--web.telemetry-path: %s is taken by syscheckd's own endpoints %v", m.path, reservedPaths)
	case strings.ContainsAny(m.path, "?# \t\n"):
		return fmt.Errorf("--web.telemetry-path: %q: only a path, without query, fragment or spaces", m.path)
	case m.maxRequests < 0:
		return fmt.Errorf("--web.max-requests: %d: give 0 for no limit, or a positive number", m.maxRequests)
	}
	return nil
}

// checkWebFlags catches at start-up what exporter-toolkit would only report
// once serving.
func checkWebFlags(f *web.FlagConfig) error {
	if !*f.WebSystemdSocket {
		if len(*f.WebListenAddresses) == 0 {
			return errors.New("--web.listen-address: no address given")
		}
		for _, addr := range *f.WebListenAddresses {
			if addr == "" {
				return errors.New("--web.listen-address: empty: give host:port; an empty address would listen on every interface")
			}
		}
	}
	if path := *f.WebConfigFile; path != "" {
		// web.Validate would block on a FIFO and read any size.
		if _, err := config.ReadFile(path, config.MaxFileSize); err != nil {
			return fmt.Errorf("--web.config.file: %w", err)
		}
		if err := web.Validate(path); err != nil {
			return fmt.Errorf("--web.config.file: %w", err)
		}
	}
	return nil
}
