package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// This file reads the expected-kernels manifest: the kernel builds a host
// may run, each named by the GNU build-id of its vmlinux. Kernel CI writes
// it (syscheckd --kernel.print-entry prints one entry) and config management
// ships it; the daemon matches the running kernel's build-id against it. It
// is read as strictly as the probes file, with the same errors.

// ManifestEntry is one kernel build a host may run.
type ManifestEntry struct {
	// Name is the build's name, the name label of syscheck_kernel_expected.
	Name string
	// BuildID is the GNU build-id of the build's vmlinux, in lowercase hex.
	BuildID string
	// Release is uname -r of the build, "" if the manifest does not say.
	Release string
}

// Manifest is the expected-kernels manifest read from File.
type Manifest struct {
	File string
	// Entries are in file order; there is at least one, and no two share
	// a name or a build-id.
	Entries []ManifestEntry
}

// Limits of an entry's values. A name defaults to the release (syscheckd
// --kernel.print-entry), so both fit in uname's 64 bytes (__NEW_UTS_LEN):
// a longer release cannot be a uname -r.
const (
	MaxKernelName = 64
	MaxRelease    = 64
)

// buildIDDigits are the lengths, in hex digits, a build-id may have: 40 is
// the SHA-1 that kbuild asks the linker for (--build-id=sha1); 16 (lld's
// "fast"), 32 (md5, uuid) and 64 (sha256) are the linkers' other styles.
// Any other length is a value cut or pasted twice.
var buildIDDigits = []int{16, 32, 40, 64}

var (
	manifestTopFields = []string{"kernels"}
	kernelFields      = []string{"name", "build_id", "release"}
	kernelNameRE      = regexp.MustCompile(`^[A-Za-z0-9_.+-]+$`)
)

// LoadManifest reads the manifest at path with ReadFile (a regular file of
// at most MaxFileSize bytes) and parses it.
func LoadManifest(path string) (Manifest, error) {
	data, err := ReadFile(path, MaxFileSize)
	if err != nil {
		return Manifest{}, err
	}
	return ParseManifest(path, data)
}

// ParseManifest returns the manifest that data, the contents of the file
// called name, holds. The first problem found is returned as an *Error.
func ParseManifest(name string, data []byte) (Manifest, error) {
	if len(data) > MaxFileSize {
		return Manifest{}, &Error{File: name, Msg: fmt.Sprintf("%d bytes, over the limit of %s", len(data), sizeString(MaxFileSize))}
	}
	top, err := document(name, data)
	if err != nil {
		return Manifest{}, err
	}
	if top == nil || isNull(top) {
		return Manifest{}, &Error{File: name, Msg: "the file is empty: it must list kernels"}
	}
	if top.Kind != yaml.MappingNode {
		return Manifest{}, &Error{File: name, Line: top.Line, Msg: fmt.Sprintf("the top level must be a mapping with the key kernels, not %s", describe(top))}
	}
	var list *yaml.Node
	line := 1
	if err := fields(name, top, "", manifestTopFields, "at the top level", func(_ string, _, v *yaml.Node) error {
		list, line = v, v.Line
		return nil
	}); err != nil {
		return Manifest{}, err
	}
	// An empty manifest would make every host's kernel unexpected: that is
	// a file cut short, not a policy.
	const none = "no kernels listed: every host would run an unexpected kernel; to check no build, leave --kernel.manifest out"
	switch {
	case list == nil || isNull(list) || list.Kind == yaml.SequenceNode && len(list.Content) == 0:
		return Manifest{}, &Error{File: name, Line: line, Field: "kernels", Msg: none}
	case list.Kind != yaml.SequenceNode:
		return Manifest{}, &Error{File: name, Line: line, Field: "kernels", Msg: fmt.Sprintf("%s, not a list of kernels", describe(list))}
	}
	m := Manifest{File: name, Entries: make([]ManifestEntry, 0, len(list.Content))}
	names := make(map[string]int)
	ids := make(map[string]int)
	for i, node := range list.Content {
		path := index("kernels", i)
		e, nodes, err := readKernel(name, node, path)
		if err != nil {
			return Manifest{}, err
		}
		at := func(field string, err error) *Error {
			l := node.Line
			if v := nodes[field]; v != nil {
				l = v.Line
			}
			return &Error{File: name, Line: l, Field: path + "." + field, Msg: err.Error()}
		}
		e, fe := e.normalize()
		if fe != nil {
			return Manifest{}, at(fe.field, fe.err)
		}
		if first, dup := names[e.Name]; dup {
			return Manifest{}, at("name", fmt.Errorf("%s is already the name of kernels[%d]: names must be unique", quote(e.Name), first))
		}
		if first, dup := ids[e.BuildID]; dup {
			return Manifest{}, at("build_id", fmt.Errorf("%s is already the build-id of kernels[%d] (%s): build-ids must be unique",
				e.BuildID, first, show(m.Entries[first].Name)))
		}
		names[e.Name], ids[e.BuildID] = i, i
		m.Entries = append(m.Entries, e)
	}
	return m, nil
}

// readKernel reads the fields of the entry node at path, checking each
// value's type where it stands; nodes holds each given field's value, for
// the line of an error.
func readKernel(name string, node *yaml.Node, path string) (e ManifestEntry, nodes map[string]*yaml.Node, err error) {
	nodes = make(map[string]*yaml.Node)
	if node.Kind != yaml.MappingNode {
		return e, nodes, &Error{File: name, Line: node.Line, Field: path, Msg: fmt.Sprintf("%s, not a mapping of a kernel's fields", describe(node))}
	}
	err = fields(name, node, path, kernelFields, "in a kernel", func(field string, k, v *yaml.Node) error {
		nodes[field] = v
		if isNull(v) {
			// As if left out: a required field is then missing.
			return nil
		}
		s, err := scalarString(v)
		if err != nil {
			return &Error{File: name, Line: v.Line, Field: join(path, k), Msg: err.Error()}
		}
		switch field {
		case "name":
			e.Name = s
		case "build_id":
			e.BuildID = s
		case "release":
			e.Release = s
		}
		return nil
	})
	return e, nodes, err
}

// Validate reports what ParseManifest would refuse in e alone (not a
// duplicate), naming the field: syscheckd --kernel.print-entry checks an
// entry before printing it, so that CI never ships one the daemon refuses.
func (e ManifestEntry) Validate() error {
	if _, fe := e.normalize(); fe != nil {
		return fmt.Errorf("%s: %w", fe.field, fe.err)
	}
	return nil
}

// fieldError is a problem in one field of an entry.
type fieldError struct {
	field string
	err   error
}

// normalize checks e's fields and returns e with its build-id in lowercase.
func (e ManifestEntry) normalize() (ManifestEntry, *fieldError) {
	if err := checkKernelName(e.Name); err != nil {
		return e, &fieldError{"name", err}
	}
	id, err := parseBuildID(e.BuildID)
	if err != nil {
		return e, &fieldError{"build_id", err}
	}
	e.BuildID = id
	if err := checkRelease(e.Release); err != nil {
		return e, &fieldError{"release", err}
	}
	return e, nil
}

func checkKernelName(s string) error {
	switch {
	case s == "":
		return errors.New("missing: every kernel needs a name (the name label of syscheck_kernel_expected)")
	case len(s) > MaxKernelName:
		return fmt.Errorf("%s is %d bytes, at most %d", quote(s), len(s), MaxKernelName)
	case !kernelNameRE.MatchString(s):
		return fmt.Errorf("%s: use letters, digits, '_', '.', '+' and '-' only (it appears in labels and alerts)", quote(s))
	}
	return nil
}

// parseBuildID returns s, a build-id in hex of either case, in lowercase:
// the case in which the kernel's reader and readelf print it.
func parseBuildID(s string) (string, error) {
	switch {
	case s == "":
		return "", errors.New("missing: the GNU build-id of the kernel's vmlinux (syscheckd --kernel.print-entry prints it)")
	case !isHex(s):
		if rest, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok && rest != "" && isHex(rest) {
			return "", fmt.Errorf("%s: write the hex digits without 0x", quote(s))
		}
		return "", fmt.Errorf("%s is not hexadecimal", quote(s))
	case !slices.Contains(buildIDDigits, len(s)):
		return "", fmt.Errorf("%s has %d hex digits: a build-id has 40 (SHA-1, what kbuild links with), or 16, 32 or 64", quote(s), len(s))
	}
	return strings.ToLower(s), nil
}

func isHex(s string) bool {
	return strings.Trim(s, "0123456789abcdefABCDEF") == ""
}

// checkRelease allows "" (not given). A release is shown on the page and
// in alerts: it must be printable, whatever escapes a quoted string holds.
func checkRelease(s string) error {
	if len(s) > MaxRelease {
		return fmt.Errorf("%s is %d bytes, at most %d (the longest uname -r)", quote(s), len(s), MaxRelease)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not UTF-8", quote(s))
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return fmt.Errorf("%s has the unprintable character %U", quote(s), r)
	}
	return nil
}

// Match returns the entry whose build-id is buildID, in hex of either case.
func (m Manifest) Match(buildID string) (ManifestEntry, bool) {
	if buildID == "" {
		return ManifestEntry{}, false
	}
	for _, e := range m.Entries {
		if strings.EqualFold(e.BuildID, buildID) {
			return e, true
		}
	}
	return ManifestEntry{}, false
}

// YAML returns e as an item of the kernels list, as kernel CI appends it
// to a manifest: "  - name: N\n    build_id: B\n    release: R\n", without
// the release line when e has none. Of a valid entry (Validate),
// ParseManifest("kernels:\n" + e.YAML()) returns e with its build-id in
// lowercase.
func (e ManifestEntry) YAML() string {
	var b strings.Builder
	b.WriteString("  - name: " + yamlString(e.Name) + "\n")
	b.WriteString("    build_id: " + yamlString(strings.ToLower(e.BuildID)) + "\n")
	if e.Release != "" {
		b.WriteString("    release: " + yamlString(e.Release) + "\n")
	}
	return b.String()
}

// plainSafe matches the strings YAML reads back as written when they are
// not quoted, except its null words.
var plainSafe = regexp.MustCompile(`^[A-Za-z0-9_.+][A-Za-z0-9_.+-]*$`)

// yamlString returns s as a YAML scalar that reads back as s: plain when
// it safely can be (names and releases usually are), double-quoted
// otherwise. Go's escapes in a quoted string are all YAML escapes too, for
// valid UTF-8.
func yamlString(s string) string {
	if plainSafe.MatchString(s) {
		switch s {
		case "null", "Null", "NULL":
		default:
			return s
		}
	}
	return strconv.Quote(s)
}
