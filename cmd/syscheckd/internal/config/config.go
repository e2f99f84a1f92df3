// Package config reads syscheckd's configuration file: the list of probes a
// host runs, in YAML.
//
// A fleet rarely gives one custom system call the same number on every
// architecture, so a probe names its number per machine (the uname -m value:
// x86_64, aarch64, ...) and Load picks the running machine's. Every error
// names the file, the line and the field at fault, because the operator
// reads it in `syscheckd --config.check`, in a reload's log line or in the
// answer to POST /-/reload, and has to find the line to fix. An error is
// one line, whatever the file holds.
//
// The file is one YAML document of at most MaxFileSize bytes, read only if
// it is a regular file (ReadFile). Anchors, aliases and merge keys are
// refused, and so are floats and quoted strings where an integer belongs.
package config

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/syscheckd/syscheckd/probe"
)

// The values a probe gets for the fields it leaves out: the same as the
// --probe.* flags' defaults.
const (
	DefaultInterval = 30 * time.Second
	DefaultTimeout  = 5 * time.Second
)

// MaxProbes bounds the probes of one file: each keeps a worker process and
// its pipes open, and the HTTP server's connection limit leaves room for
// that many.
const MaxProbes = 32

// The fields of the file and of a probe; any other key is an error, so a
// misspelt "intervall" fails instead of silently using 30s.
var (
	topFields   = []string{"probes"}
	probeFields = []string{"name", "syscall", "symbol", "expect_return", "kmsg_pattern", "interval", "timeout"}
)

// lethal names, per machine, the numbers whose upstream system call kills
// its caller. The symbol check keeps a probe from calling them on a kernel
// that has them; with the check off, a probe of one is allowed (the custom
// kernel may use the number) but warned about.
var lethal = map[string]map[int]string{
	"x86_64": {335: "uretprobe on Linux >= 6.11 and kills its caller (SIGILL)"},
}

// Load reads the file at path (with ReadFile, so at most MaxFileSize bytes
// of a regular file) and returns its probes for machine (the running
// kernel's uname -m).
func Load(path, machine string) ([]probe.Config, error) {
	cfgs, _, err := Check(path, machine)
	return cfgs, err
}

// Check is Load that also returns the warnings: settings that are valid
// but dangerous, each naming its line and field, for `syscheckd
// --config.check`.
func Check(path, machine string) (cfgs []probe.Config, warnings []*Error, err error) {
	data, err := ReadFile(path, MaxFileSize)
	if err != nil {
		return nil, nil, err
	}
	return parse(path, data, machine)
}

// Parse returns the probes that data, the contents of the file called name,
// defines for machine. The first problem found is returned as an *Error.
func Parse(name string, data []byte, machine string) ([]probe.Config, error) {
	cfgs, _, err := parse(name, data, machine)
	return cfgs, err
}

func parse(name string, data []byte, machine string) ([]probe.Config, []*Error, error) {
	if len(data) > MaxFileSize {
		return nil, nil, &Error{File: name, Msg: fmt.Sprintf("%d bytes, over the limit of %s", len(data), sizeString(MaxFileSize))}
	}
	top, err := document(name, data)
	if err != nil {
		return nil, nil, err
	}
	if top == nil || isNull(top) {
		return nil, nil, &Error{File: name, Msg: "the file is empty: it must list probes"}
	}
	if top.Kind != yaml.MappingNode {
		return nil, nil, &Error{File: name, Line: top.Line, Msg: fmt.Sprintf("the top level must be a mapping with the key probes, not %s", describe(top))}
	}
	var list *yaml.Node
	line := 1
	if err := fields(name, top, "", topFields, "at the top level", func(_ string, _, v *yaml.Node) error {
		list, line = v, v.Line
		return nil
	}); err != nil {
		return nil, nil, err
	}
	switch {
	case list == nil || isNull(list):
		return nil, nil, &Error{File: name, Line: line, Field: "probes", Msg: "no probes listed"}
	case list.Kind != yaml.SequenceNode:
		return nil, nil, &Error{File: name, Line: line, Field: "probes", Msg: fmt.Sprintf("%s, not a list of probes", describe(list))}
	case len(list.Content) == 0:
		return nil, nil, &Error{File: name, Line: line, Field: "probes", Msg: "no probes listed"}
	case len(list.Content) > MaxProbes:
		// Before any probe is read: the count bounds the work.
		return nil, nil, &Error{File: name, Line: line, Field: "probes",
			Msg: fmt.Sprintf("%d probes listed, at most %d: each keeps a worker process", len(list.Content), MaxProbes)}
	}
	cfgs := make([]probe.Config, 0, len(list.Content))
	var warnings []*Error
	seen := make(map[string]int)
	for i, node := range list.Content {
		path := index("probes", i)
		e, err := readProbe(name, node, path)
		if err != nil {
			return nil, nil, err
		}
		at := func(field, format string, args ...any) *Error {
			l := node.Line
			if v := e.nodes[field]; v != nil {
				l = v.Line
			}
			return &Error{File: name, Line: l, Field: path + "." + field, Msg: fmt.Sprintf(format, args...)}
		}
		c, err := e.config(machine, at)
		if err != nil {
			return nil, nil, err
		}
		if first, dup := seen[c.Name]; dup {
			return nil, nil, at("name", "%s is already the name of probes[%d]: names must be unique", quote(c.Name), first)
		}
		seen[c.Name] = i
		if why, ok := lethal[machine][c.Syscall]; ok && c.Symbol == "" {
			warnings = append(warnings, at("syscall", `%d on %s is %s; with symbol "" nothing keeps the worker from calling it`, c.Syscall, machine, why))
		}
		cfgs = append(cfgs, c)
	}
	return cfgs, warnings, nil
}

// probeEntry is one probe as the file gives it.
type probeEntry struct {
	Name         string
	Syscall      map[string]int64
	Symbol       *string
	ExpectReturn int64
	KmsgPattern  *string
	Interval     string
	Timeout      string
	// nodes holds each given field's value, for the line of an error.
	nodes map[string]*yaml.Node
}

// readProbe reads the fields of the probe node at path, checking each
// value's type where it stands.
func readProbe(name string, node *yaml.Node, path string) (probeEntry, error) {
	e := probeEntry{nodes: make(map[string]*yaml.Node)}
	if node.Kind != yaml.MappingNode {
		return e, &Error{File: name, Line: node.Line, Field: path, Msg: fmt.Sprintf("%s, not a mapping of a probe's fields", describe(node))}
	}
	err := fields(name, node, path, probeFields, "in a probe", func(field string, k, v *yaml.Node) error {
		e.nodes[field] = v
		if isNull(v) {
			// As if left out: a required field is then missing.
			return nil
		}
		if field == "syscall" {
			var err error
			e.Syscall, err = readSyscall(name, v, join(path, k))
			return err
		}
		if err := e.set(field, v); err != nil {
			return &Error{File: name, Line: v.Line, Field: join(path, k), Msg: err.Error()}
		}
		return nil
	})
	return e, err
}

// set sets field, a scalar one, to v.
func (e *probeEntry) set(field string, v *yaml.Node) error {
	if field == "expect_return" {
		var err error
		e.ExpectReturn, err = scalarInt(v)
		return err
	}
	s, err := scalarString(v)
	if err != nil {
		return err
	}
	switch field {
	case "name":
		e.Name = s
	case "symbol":
		e.Symbol = &s
	case "kmsg_pattern":
		e.KmsgPattern = &s
	case "interval":
		e.Interval = s
	case "timeout":
		e.Timeout = s
	}
	return nil
}

// readSyscall reads the numbers per machine. Every machine's number must be
// an integer, not only the running one's: --config.check on one host
// checks the file for the fleet.
func readSyscall(name string, v *yaml.Node, path string) (map[string]int64, error) {
	if v.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: v.Line, Field: path,
			Msg: fmt.Sprintf("%s is not a mapping: give the number per machine, e.g. {x86_64: 335}", describe(v))}
	}
	m := make(map[string]int64)
	err := fields(name, v, path, nil, "", func(machine string, k, n *yaml.Node) error {
		nr, err := scalarInt(n)
		if err != nil {
			return &Error{File: name, Line: n.Line, Field: join(path, k), Msg: err.Error()}
		}
		m[machine] = nr
		return nil
	})
	return m, err
}

// config validates one entry; at builds the error for one of its fields.
func (e probeEntry) config(machine string, at func(field, format string, args ...any) *Error) (probe.Config, error) {
	c := probe.Config{Name: e.Name, ExpectReturn: e.ExpectReturn, Interval: DefaultInterval, Timeout: DefaultTimeout}
	switch {
	case e.Name == "":
		return c, at("name", "missing: every probe needs a name (the value of its probe label)")
	case !validName(e.Name):
		return c, at("name", "%s: use letters, digits, '_', '-' and '.' only (it appears in URLs and labels)", quote(e.Name))
	case len(e.Syscall) == 0:
		return c, at("syscall", "missing: give the number per machine, e.g. {x86_64: 335}")
	case e.Symbol == nil:
		// No default: a forgotten symbol must not silently turn off the
		// check that keeps syscheckd from calling an upstream system call.
		return c, at("symbol", `missing: name the system call as kallsyms lists it, or "" to turn the check off`)
	case e.KmsgPattern == nil:
		return c, at("kmsg_pattern", "missing: the regular expression its kernel record matches")
	}
	nr, ok := e.Syscall[machine]
	if !ok {
		return c, at("syscall", "no number for this machine (%s); it has numbers for %s", machine, machines(e.Syscall))
	}
	if nr < 0 || nr > probe.MaxSyscall {
		return c, at("syscall", "%d (%s) is outside 0..%d", nr, machine, probe.MaxSyscall)
	}
	c.Syscall = int(nr)
	c.Symbol = *e.Symbol
	re, err := regexp.Compile(*e.KmsgPattern)
	if err != nil {
		return c, at("kmsg_pattern", "%s", regexpError(err))
	}
	c.Pattern = re
	if e.Interval != "" {
		if c.Interval, err = parseDuration(e.Interval); err != nil {
			return c, at("interval", "%v", err)
		}
	}
	if e.Timeout != "" {
		if c.Timeout, err = parseDuration(e.Timeout); err != nil {
			return c, at("timeout", "%v", err)
		}
	}
	if c.Timeout >= c.Interval {
		return c, at("timeout", "%s is not shorter than the interval %s", c.Timeout, c.Interval)
	}
	if err := c.Validate(); err != nil {
		return c, at("name", "%v", err)
	}
	return c, nil
}

// regexpError is the regexp package's error with the expression quoted and
// cut: its own text repeats the expression whole, on as many lines as it has.
func regexpError(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("error parsing regexp: %s: %s", se.Code, quote(se.Expr))
	}
	return quote(err.Error())
}

// parseDuration says what is wrong in its own words: time.ParseDuration's
// error repeats the whole value.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s is not a duration such as 30s or 1m30s", quote(s))
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s is not positive", d)
	}
	return d, nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func validName(s string) bool { return nameRE.MatchString(s) }

// machines lists the machines of m for a message, at most a few of them.
func machines(m map[string]int64) string {
	const most = 8
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var more string
	if len(keys) > most {
		more = fmt.Sprintf(" and %d more", len(keys)-most)
		keys = keys[:most]
	}
	for i, k := range keys {
		keys[i] = show(k)
	}
	return strings.Join(keys, ", ") + more
}
