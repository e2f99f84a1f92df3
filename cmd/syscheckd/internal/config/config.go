// Package config reads syscheckd's configuration file: the list of probes a
// host runs, in YAML.
//
// A fleet rarely gives one custom system call the same number on every
// architecture, so a probe names its number per machine (the uname -m value:
// x86_64, aarch64, ...) and Load picks the running machine's. Every error
// names the file, the line and the field at fault, because the operator
// reads it in `syscheckd --config.check`, in a reload's log line or in the
// answer to POST /-/reload, and has to find the line to fix.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
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

// file is the YAML document. KnownFields(true) rejects any key not listed
// here, so a misspelt "intervall" fails instead of silently using 30s.
type file struct {
	Probes []probeEntry `yaml:"probes"`
}

type probeEntry struct {
	Name         string         `yaml:"name"`
	Syscall      map[string]int `yaml:"syscall"`
	Symbol       *string        `yaml:"symbol"`
	ExpectReturn int64          `yaml:"expect_return"`
	KmsgPattern  *string        `yaml:"kmsg_pattern"`
	Interval     string         `yaml:"interval"`
	Timeout      string         `yaml:"timeout"`
}

// Error is a problem in the file, at a line and a field.
type Error struct {
	File string
	Line int
	// Field is the path to the value at fault, such as probes[1].timeout.
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Load reads the file at path and returns its probes for machine (the
// running kernel's uname -m).
func Load(path, machine string) ([]probe.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, machine)
}

// Parse returns the probes that data, the contents of the file called name,
// defines for machine. The first problem found is returned as an *Error.
func Parse(name string, data []byte, machine string) ([]probe.Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: "the file is empty: it must list probes"}
		}
		return nil, yamlError(name, err)
	}
	probesNode := lookup(document(&root), "probes")
	if len(f.Probes) == 0 {
		return nil, &Error{File: name, Line: line(probesNode, 1), Field: "probes", Msg: "no probes listed"}
	}
	if len(f.Probes) > MaxProbes {
		return nil, &Error{File: name, Line: line(probesNode, 1), Field: "probes",
			Msg: fmt.Sprintf("%d probes listed, at most %d: each keeps a worker process", len(f.Probes), MaxProbes)}
	}
	cfgs := make([]probe.Config, 0, len(f.Probes))
	seen := make(map[string]int)
	for i, e := range f.Probes {
		node := probesNode.Content[i]
		at := func(field, format string, args ...any) error {
			l := node.Line
			if v := lookup(node, field); v != nil {
				l = v.Line
			}
			return &Error{File: name, Line: l, Field: fmt.Sprintf("probes[%d].%s", i, field), Msg: fmt.Sprintf(format, args...)}
		}
		c, err := e.config(machine, at)
		if err != nil {
			return nil, err
		}
		if first, dup := seen[c.Name]; dup {
			return nil, at("name", "%q is already the name of probes[%d]: names must be unique", c.Name, first)
		}
		seen[c.Name] = i
		cfgs = append(cfgs, c)
	}
	return cfgs, nil
}

// config validates one entry; at builds the error for one of its fields.
func (e probeEntry) config(machine string, at func(field, format string, args ...any) error) (probe.Config, error) {
	c := probe.Config{Name: e.Name, ExpectReturn: e.ExpectReturn, Interval: DefaultInterval, Timeout: DefaultTimeout}
	switch {
	case e.Name == "":
		return c, at("name", "missing: every probe needs a name (the value of its probe label)")
	case !validName(e.Name):
		return c, at("name", "%q: use letters, digits, '_', '-' and '.' only (it appears in URLs and labels)", e.Name)
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
		return c, at("syscall", "no number for this machine (%s); it has numbers for %s", machine, strings.Join(sortedKeys(e.Syscall), ", "))
	}
	c.Syscall = nr
	if nr < 0 || nr > probe.MaxSyscall {
		return c, at("syscall", "%d (%s) is outside 0..%d", nr, machine, probe.MaxSyscall)
	}
	c.Symbol = *e.Symbol
	re, err := regexp.Compile(*e.KmsgPattern)
	if err != nil {
		return c, at("kmsg_pattern", "%v", err)
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

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s is not positive", s)
	}
	return d, nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func validName(s string) bool { return nameRE.MatchString(s) }

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// yamlError turns the YAML library's errors ("yaml: line 3: ..." or a
// TypeError with one "line N: ..." per problem) into an *Error for the first
// problem.
func yamlError(name string, err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	e := &Error{File: name, Msg: msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, text, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(n); err == nil {
				e.Line, e.Msg = l, text
			}
		}
	}
	// The decoder names Go types; the operator knows the file's sections.
	e.Msg = strings.NewReplacer("in type config.probeEntry", "in a probe (known: "+strings.Join(probeFields, ", ")+")",
		"in type config.file", "at the top level (known: probes)").Replace(e.Msg)
	return e
}

var probeFields = []string{"name", "syscall", "symbol", "expect_return", "kmsg_pattern", "interval", "timeout"}

// document returns the top mapping of a parsed file, or nil.
func document(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return nil
}

// lookup returns the value of key in mapping m, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func line(n *yaml.Node, fallback int) int {
	if n == nil {
		return fallback
	}
	return n.Line
}
