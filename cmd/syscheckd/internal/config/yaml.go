package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// This file reads the YAML tree and the values in it. The tree is walked by
// hand, not decoded into structs, so that every value is checked for its
// type at its own line and field, the probe count is known before any
// probe is read, and nothing the library accepts (merge keys, aliases,
// several documents) can leave a field unexplained.

const unsupported = "YAML anchors, aliases and merge keys are not supported; write each value out"

// document returns the top node of the one YAML document in data, nil if
// data holds none.
func document(name string, data []byte) (top *yaml.Node, err error) {
	// The library returns its own failures as errors; any other panic of
	// its would take the daemon down on a reload.
	defer func() {
		if r := recover(); r != nil {
			top, err = nil, &Error{File: name, Msg: "the YAML parser failed: " + quote(fmt.Sprint(r))}
		}
	}()
	if err := checkText(name, data); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(name, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, yamlError(name, err)
	default:
		return nil, &Error{File: name, Line: next.Line, Msg: "a second YAML document: the file must hold one"}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	top = doc.Content[0]
	if err := noAliases(name, top, ""); err != nil {
		return nil, err
	}
	return top, nil
}

// noAliases refuses anchors, aliases and merge keys: a value shared between
// probes would have no line of its own to report, and an alias can make a
// small file a large tree.
func noAliases(name string, n *yaml.Node, path string) error {
	switch {
	case n.Kind == yaml.AliasNode:
		return &Error{File: name, Line: n.Line, Field: path, Msg: "alias *" + show(n.Value) + ": " + unsupported}
	case n.Anchor != "":
		return &Error{File: name, Line: n.Line, Field: path, Msg: "anchor &" + show(n.Anchor) + ": " + unsupported}
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				return &Error{File: name, Line: k.Line, Field: path, Msg: "merge key <<: " + unsupported}
			}
			if err := noAliases(name, k, path); err != nil {
				return err
			}
			if err := noAliases(name, v, join(path, k)); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := noAliases(name, c, index(path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkText refuses what the YAML library would refuse without a line:
// invalid UTF-8 and the characters YAML does not allow in a file.
func checkText(name string, data []byte) error {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		var msg string
		switch {
		case r == utf8.RuneError && size == 1:
			msg = fmt.Sprintf("invalid UTF-8 (byte 0x%02x): the file must be UTF-8", data[i])
		case !yamlAllows(r) && (r < 0x20 || 0x7f <= r && r <= 0x9f):
			msg = fmt.Sprintf("control character %U: YAML allows tab, LF and CR only", r)
		case !yamlAllows(r):
			msg = fmt.Sprintf("character %U is not allowed in YAML", r)
		}
		if msg != "" {
			line := bytes.Count(data[:i], []byte("\n")) + 1
			return &Error{File: name, Line: line, Field: fieldAt(data, line), Msg: msg}
		}
		i += size
	}
	return nil
}

// yamlAllows reports whether YAML 1.2 allows r in a file (c-printable).
func yamlAllows(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || 0x20 <= r && r <= 0x7e || r == 0x85 ||
		0xa0 <= r && r <= 0xd7ff || 0xe000 <= r && r <= 0xfffd || 0x10000 <= r && r <= 0x10ffff
}

// fieldAt names the field at line in data, whose text checkText refused:
// the last value that starts at or before the line, in the tree of data
// with the refused characters replaced. It returns "" when that tree does
// not parse either.
func fieldAt(data []byte, line int) string {
	clean := bytes.Map(func(r rune) rune {
		if r == utf8.RuneError || !yamlAllows(r) {
			return utf8.RuneError
		}
		return r
	}, data)
	var doc yaml.Node
	if err := yaml.Unmarshal(clean, &doc); err != nil || len(doc.Content) == 0 {
		return ""
	}
	path, _ := pathAt(doc.Content[0], "", line)
	return path
}

// pathAt returns the path of the last node in n, n included, that starts
// at or before line, and whether a node after it starts past the line.
func pathAt(n *yaml.Node, path string, line int) (string, bool) {
	best := path
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Line > line {
				return best, true
			}
			best = join(path, k)
			if v.Line > line {
				return best, true
			}
			p, past := pathAt(v, best, line)
			if past {
				return p, true
			}
			best = p
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if c.Line > line {
				return best, true
			}
			p, past := pathAt(c, index(path, i), line)
			if past {
				return p, true
			}
			best = p
		}
	}
	return best, false
}

// yamlError turns the YAML library's error into an *Error. The library
// names a line, not a field, for a file it cannot parse: there is no tree
// to name the field in.
func yamlError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if a, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		a, _ = strings.CutSuffix(a, "' referenced")
		return &Error{File: name, Msg: "alias *" + show(a) + ": " + unsupported}
	}
	e := &Error{File: name, Msg: msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, text, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(n); err == nil {
				e.Line, e.Msg = l, text
			}
		}
	}
	if len(e.Msg) > 2*maxQuoted {
		e.Msg = quote(e.Msg)
	}
	return e
}

// join returns the path of the value of key k in the mapping at path.
func join(path string, k *yaml.Node) string {
	key := k.Value
	if k.Kind != yaml.ScalarNode {
		key = "?"
	}
	if path == "" {
		return show(key)
	}
	return path + "." + show(key)
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// describe names what n is, for "X is not a Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			return quote(n.Value)
		}
		return show(n.Value)
	}
	return "an alias"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// explicitTag returns the tag written in the file before n (e.g. !!binary),
// or "".
func explicitTag(n *yaml.Node) string {
	if n.Style&yaml.TaggedStyle == 0 {
		return ""
	}
	return n.ShortTag()
}

// scalarString returns the text of a scalar: any plain or quoted scalar is
// a string as written; an explicit tag other than !!str is refused.
func scalarString(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("%s, not a string", describe(n))
	}
	if t := explicitTag(n); t != "" && t != "!!str" {
		return "", fmt.Errorf("the tag %s is not supported here: write a plain string", show(t))
	}
	return n.Value, nil
}

var (
	decimal     = regexp.MustCompile(`^[-+]?[0-9_]+$`)
	leadingZero = regexp.MustCompile(`^[-+]?0[0-9_]`)
)

// scalarInt returns the integer n holds. It takes what YAML resolves as an
// integer (24, -3, 0x18, 1_000) except a leading 0, which YAML reads as
// octal; it refuses floats, which decoding into an int would truncate.
func scalarInt(n *yaml.Node) (int64, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, fmt.Errorf("%s, not an integer", describe(n))
	}
	if t := explicitTag(n); t != "" && t != "!!int" {
		return 0, fmt.Errorf("the tag %s is not supported here: write a plain integer", show(t))
	}
	s := n.Value
	switch {
	case n.ShortTag() == "!!float" && decimal.MatchString(s):
		return 0, fmt.Errorf("%s is out of range", describe(n))
	case n.ShortTag() != "!!int":
		return 0, fmt.Errorf("%s is not an integer", describe(n))
	case leadingZero.MatchString(s):
		return 0, fmt.Errorf("%s has a leading 0, which YAML reads as octal: write the number without it", describe(n))
	}
	i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%s is out of range", describe(n))
	}
	if err != nil {
		return 0, fmt.Errorf("%s is not an integer", describe(n))
	}
	return i, nil
}

// fields calls fn for each key of mapping m, at path, in file order. A key
// must be a scalar, named in known (if known is not nil; where says where
// m is), and given once.
func fields(name string, m *yaml.Node, path string, known []string, where string, fn func(key string, k, v *yaml.Node) error) error {
	seen := make(map[string]int)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return &Error{File: name, Line: k.Line, Field: path, Msg: fmt.Sprintf("a key must be a name, not %s", describe(k))}
		}
		if first, dup := seen[k.Value]; dup {
			return &Error{File: name, Line: k.Line, Field: join(path, k), Msg: fmt.Sprintf("given twice (first at line %d)", first)}
		}
		seen[k.Value] = k.Line
		if known != nil && !slices.Contains(known, k.Value) {
			return &Error{File: name, Line: k.Line, Msg: fmt.Sprintf("field %s not found %s (known: %s)", show(k.Value), where, strings.Join(known, ", "))}
		}
		if err := fn(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}
