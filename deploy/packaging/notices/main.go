// Command notices writes the license notices of everything linked into a Go
// binary: the Debian copyright file (machine-readable, DEP-5) and a plain
// text file of third-party notices. build.sh runs it on the binary it
// packages:
//
//	go run . -binary BIN -module-root DIR -copyright-header FILE \
//	         -copyright OUT -notices OUT
//
// The modules come from the binary's own build information (what `go
// version -m` prints), so nothing linked is missed and nothing unlinked is
// added. `go list -deps` of the binary's main package, run in -module-root
// with the binary's GOOS, GOARCH, CGO_ENABLED and -tags, tells which
// packages of each module are linked and where the module cache holds
// them. For each module it collects the license files (LICENSE, LICENCE,
// COPYING, NOTICE, PATENTS, with any extension) of every linked package's
// directory and of the directories above it up to the module's root, so
// that code a module vendors under its own license (client_golang's copy
// of gddo, BSD-3-Clause) is found too. Each license file is classified with
// github.com/google/licensecheck. It fails when a linked module has no
// license file, when a license file is not recognised, or when the binary
// holds a module the source tree does not build.
//
// The Go standard library and runtime, linked into every Go binary, are
// listed too, with the LICENSE of the go command on PATH (go env GOROOT).
package main

import (
	"bytes"
	"cmp"
	"debug/buildinfo"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/google/licensecheck"
)

// minCoverage is the share of a license file's words licensecheck must
// recognise as one or more known licenses. Short files carry a title and
// copyright lines besides the license itself.
const minCoverage = 75

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "", "the Go `binary` whose modules to list")
	flag.StringVar(&o.moduleRoot, "module-root", ".", "the `directory` of the main module the binary was built from")
	flag.StringVar(&o.header, "copyright-header", "", "DEP-5 copyright `file` of the main module: its paragraphs come first, its stand-alone License paragraphs last")
	flag.StringVar(&o.copyright, "copyright", "", "DEP-5 copyright `file` to write")
	flag.StringVar(&o.notices, "notices", "", "third-party notices `file` to write")
	flag.StringVar(&o.installed, "installed-as", "/usr/bin/syscheckd", "`path` of the binary on the installed system, for the texts")
	flag.Parse()
	if o.binary == "" || o.header == "" || o.copyright == "" || o.notices == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: notices -binary BIN -copyright-header FILE -copyright OUT -notices OUT [-module-root DIR]")
		os.Exit(2)
	}
	if err := o.run(); err != nil {
		fmt.Fprintf(os.Stderr, "notices: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	binary, moduleRoot, header, copyright, notices, installed string
}

// module is one module linked into the binary and its license files.
type module struct {
	Path, Version string
	Files         []licenseFile
}

// licenseFile is one license or notice file of a module.
type licenseFile struct {
	Rel     string // slash-separated, relative to the module's root
	Text    string
	License string // SPDX expression; "" for NOTICE and PATENTS files
}

// Dir is the file's directory relative to the module root ("" at the root).
func (f licenseFile) Dir() string {
	if d := filepath.ToSlash(filepath.Dir(f.Rel)); d != "." {
		return d
	}
	return ""
}

func (o options) run() error {
	bi, err := buildinfo.ReadFile(o.binary)
	if err != nil {
		return err
	}
	pkgs, err := linkedPackages(bi, o.moduleRoot)
	if err != nil {
		return err
	}
	mods, err := modules(bi, pkgs)
	if err != nil {
		return err
	}
	root, err := goroot()
	if err != nil {
		return err
	}
	goLicense, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	if err != nil {
		return fmt.Errorf("the Go license: %w", err)
	}
	std := module{Path: "std", Version: bi.GoVersion, Files: []licenseFile{{Rel: "LICENSE", Text: string(goLicense)}}}
	if err := classify(&std); err != nil {
		return err
	}

	header, err := os.ReadFile(o.header)
	if err != nil {
		return err
	}
	copyright, err := dep5(string(header), std, mods, o.installed)
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.copyright, []byte(copyright), 0o644); err != nil {
		return err
	}
	return os.WriteFile(o.notices, []byte(notices(std, mods, o.installed)), 0o644)
}

// goroot is the GOROOT of the go command on PATH, the toolchain that builds
// the binary in build.sh.
func goroot() (string, error) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOROOT: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// listed is one line of go list: a linked package of a module.
type listed struct {
	modPath, modVersion, modDir, dir string
}

// linkedPackages lists the packages of the binary's main package with the
// binary's build settings, keyed by module path.
func linkedPackages(bi *buildinfo.BuildInfo, root string) (map[string][]listed, error) {
	env := []string{"GOFLAGS=-mod=readonly"}
	var args []string
	for _, s := range bi.Settings {
		switch s.Key {
		case "GOOS", "GOARCH", "CGO_ENABLED", "GOAMD64":
			env = append(env, s.Key+"="+s.Value)
		case "-tags":
			args = append(args, "-tags="+s.Value)
		}
	}
	args = append([]string{"list", "-deps", "-f",
		"{{with .Module}}{{.Path}}\t{{.Version}}\t{{.Dir}}\t{{$.Dir}}{{end}}"}, args...)
	args = append(args, bi.Path)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s in %s: %w\n%s", strings.Join(args, " "), root, err, stderr.String())
	}
	pkgs := map[string][]listed{}
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if len(f) != 4 {
			continue
		}
		pkgs[f[0]] = append(pkgs[f[0]], listed{f[0], f[1], f[2], f[3]})
	}
	return pkgs, nil
}

// licenseName matches the files collected: LICENSE, LICENCE, COPYING,
// NOTICE and PATENTS, with any suffix (LICENSE.md, COPYING.txt,
// LICENSE-APACHE).
var licenseName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|notice|patents)([.-_].*)?$`)

// isNotice tells notice files, shipped verbatim but not classified, from
// license files.
func isNotice(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "notice") || strings.HasPrefix(n, "patents")
}

// modules gathers each dependency of the binary with its license files.
func modules(bi *buildinfo.BuildInfo, pkgs map[string][]listed) ([]module, error) {
	var mods []module
	var errs []error
	for _, dep := range bi.Deps {
		version := dep.Version
		if dep.Replace != nil {
			// The module cache holds the replacement; go list reports it
			// under the original path.
			version = dep.Replace.Version
		}
		ps := pkgs[dep.Path]
		if len(ps) == 0 {
			errs = append(errs, fmt.Errorf("%s %s is linked into the binary but `go list -deps %s` in the module root lists none of its packages: was the binary built from this tree?", dep.Path, dep.Version, bi.Path))
			continue
		}
		if ps[0].modVersion != version {
			errs = append(errs, fmt.Errorf("%s: the binary links %s, the module root builds %s", dep.Path, version, ps[0].modVersion))
			continue
		}
		m := module{Path: dep.Path, Version: dep.Version}
		if dep.Replace != nil {
			m.Version = dep.Version + " => " + dep.Replace.Path + " " + dep.Replace.Version
		}
		files, err := licenseFiles(ps)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", dep.Path, err))
			continue
		}
		m.Files = files
		if err := classify(&m); err != nil {
			errs = append(errs, err)
			continue
		}
		mods = append(mods, m)
	}
	slices.SortFunc(mods, func(a, b module) int { return cmp.Compare(a.Path, b.Path) })
	return mods, errors.Join(errs...)
}

// licenseFiles collects the license files of the packages' directories and
// of their parents up to the module root.
func licenseFiles(ps []listed) ([]licenseFile, error) {
	root := ps[0].modDir
	if root == "" {
		return nil, errors.New("go list gives no directory for the module (not downloaded?)")
	}
	seen := map[string]bool{}
	var files []licenseFile
	for _, p := range ps {
		dir := p.dir
		for {
			rel, err := filepath.Rel(root, dir)
			if err != nil || strings.HasPrefix(rel, "..") {
				return nil, fmt.Errorf("package directory %s is outside the module root %s", p.dir, root)
			}
			if !seen[dir] {
				seen[dir] = true
				entries, err := os.ReadDir(dir)
				if err != nil {
					return nil, err
				}
				for _, e := range entries {
					if !e.Type().IsRegular() || !licenseName.MatchString(e.Name()) {
						continue
					}
					text, err := os.ReadFile(filepath.Join(dir, e.Name()))
					if err != nil {
						return nil, err
					}
					files = append(files, licenseFile{Rel: filepath.ToSlash(filepath.Join(rel, e.Name())), Text: string(text)})
				}
			}
			if rel == "." {
				break
			}
			dir = filepath.Dir(dir)
		}
	}
	// Root files first, then by path: the module's own license leads.
	slices.SortFunc(files, func(a, b licenseFile) int {
		return cmp.Or(cmp.Compare(strings.Count(a.Rel, "/"), strings.Count(b.Rel, "/")), cmp.Compare(a.Rel, b.Rel))
	})
	return files, nil
}

// classify names each license file's license and fails when a module has no
// license file or one is not recognised.
func classify(m *module) error {
	licenses := 0
	for i := range m.Files {
		f := &m.Files[i]
		if isNotice(filepath.Base(f.Rel)) {
			continue
		}
		licenses++
		id, err := identify(f.Text)
		if err != nil {
			return fmt.Errorf("%s %s: %s: %w", m.Path, m.Version, f.Rel, err)
		}
		f.License = id
	}
	if licenses == 0 {
		return fmt.Errorf("%s %s: no license file (LICENSE, LICENCE or COPYING) in the module root or above its linked packages", m.Path, m.Version)
	}
	return nil
}

// identify returns the SPDX expression of a license text.
func identify(text string) (string, error) {
	cov := licensecheck.Scan([]byte(text))
	if cov.Percent < minCoverage || len(cov.Match) == 0 {
		return "", fmt.Errorf("license not recognised (%.0f%% of the text matches a known license)", cov.Percent)
	}
	var ids []string
	for _, m := range cov.Match {
		if !slices.Contains(ids, m.ID) {
			ids = append(ids, m.ID)
		}
	}
	return strings.Join(ids, " and "), nil
}

// copyrightLine matches a copyright statement in a license or notice file.
var copyrightLine = regexp.MustCompile(`(?i)^\s*(copyright\b|\(c\)|©)\s*(.*)$`)

// statement is what a copyright statement starts with once the word
// Copyright is gone: a year.
var statement = regexp.MustCompile(`^[0-9]{4}\b`)

// holders returns the copyright statements of the texts, without the word
// Copyright, in order and without repeats. License terms that mention copyright
// ("copyright notice", "[yyyy] [name of copyright owner]") are skipped.
func holders(texts ...string) []string {
	var out []string
	for _, text := range texts {
		for line := range strings.Lines(text) {
			m := copyrightLine.FindStringSubmatch(strings.TrimRight(line, "\r\n"))
			if m == nil {
				continue
			}
			s := strings.TrimSpace(m[2])
			for {
				t := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(s, "(c)"), "(C)"), "©"))
				if t == s {
					break
				}
				s = t
			}
			// A statement starts with its year: this skips the license
			// terms that mention copyright, and Apache's clause (c).
			if !statement.MatchString(s) {
				continue
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// field formats a multi-line DEP-5 field value: each line indented by one
// space, empty lines as " .", tabs expanded.
func field(text string) string {
	var b strings.Builder
	for line := range strings.Lines(strings.TrimRight(text, "\n\t ")) {
		line = strings.TrimRight(strings.ReplaceAll(line, "\t", "    "), "\n\r\t ")
		if line == "" {
			b.WriteString(" .\n")
		} else {
			b.WriteString(" " + line + "\n")
		}
	}
	return b.String()
}

// wrap breaks a one-line text into lines of at most width bytes, at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		switch {
		case n == 0:
		case n+1+len(w) > width:
			b.WriteString("\n")
			n = 0
		default:
			b.WriteString(" ")
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

// apache20 is the SPDX name of the license Debian keeps in
// /usr/share/common-licenses, to which the copyright file refers instead of
// repeating it.
const apache20 = "Apache-2.0"

// dep5 inserts a Files paragraph per license file of each module after the
// header's Files paragraphs and before its stand-alone License paragraphs.
func dep5(header string, std module, mods []module, installed string) (string, error) {
	paras := strings.Split(strings.TrimSpace(header), "\n\n")
	split := len(paras)
	for i, p := range paras {
		if i > 0 && strings.HasPrefix(p, "License:") {
			split = i
			break
		}
	}
	if !strings.Contains(strings.Join(paras[split:], "\n"), "License: "+apache20+"\n") {
		return "", fmt.Errorf("the copyright header has no stand-alone License: %s paragraph to refer to", apache20)
	}
	var b strings.Builder
	for _, p := range paras[:split] {
		b.WriteString(p + "\n\n")
	}
	for _, m := range append([]module{std}, mods...) {
		// One paragraph per directory with license files: they govern the
		// code below it, and its notice files go in the comment.
		var dirs []string
		byDir := map[string][]licenseFile{}
		for _, f := range m.Files {
			if byDir[f.Dir()] == nil {
				dirs = append(dirs, f.Dir())
			}
			byDir[f.Dir()] = append(byDir[f.Dir()], f)
		}
		for _, dir := range dirs {
			var ids, texts, refs, notes []string
			var all []string
			for _, f := range byDir[dir] {
				all = append(all, f.Text)
				switch {
				case f.License == "":
					notes = append(notes, "Its "+f.Rel+":\n\n"+f.Text)
				case f.License == apache20 && isApache(f.Text):
					// The stand-alone paragraph refers to common-licenses.
					refs = append(refs, f.Rel)
				default:
					// Anything else, a modified Apache text included, is
					// shipped as it is.
					texts = append(texts, f.Text)
				}
				if f.License != "" && !slices.Contains(ids, f.License) {
					ids = append(ids, f.License)
				}
			}
			if len(ids) == 0 {
				// Notice files without a license file beside them: their
				// license is the one above, but they are shipped here.
				ids = []string{"see-above"}
			}
			files, what := m.Path+"/*", "The Go module "+m.Path+" "+m.Version+" is"
			if m.Path == "std" {
				files, what = "go/*", "The Go standard library and runtime of "+m.Version+" are"
			}
			if dir != "" {
				files = strings.TrimSuffix(files, "*") + dir + "/*"
				what = "The code under " + dir + "/ in the Go module " + m.Path + " " + m.Version + " is"
			}
			hs := holders(all...)
			if len(hs) == 0 {
				hs = []string{"the authors of " + m.Path + " (its license files name none)"}
			}
			fmt.Fprintf(&b, "Files: %s\nCopyright: %s\n", files, strings.Join(hs, "\n "))
			fmt.Fprintf(&b, "License: %s\n", strings.Join(ids, " and "))
			if len(texts) > 0 {
				b.WriteString(field(strings.Join(texts, "\n\n")))
			}
			var rels []string
			for _, f := range byDir[dir] {
				rels = append(rels, f.Rel)
			}
			comment := what + " statically linked into " + installed + ". Its license files: " + strings.Join(rels, ", ") + "."
			if len(refs) > 0 {
				comment += " " + strings.Join(refs, ", ") + " is the Apache License 2.0 as published."
			}
			comment = wrap(comment, 78)
			for _, n := range notes {
				comment += "\n\n" + n
			}
			fmt.Fprintf(&b, "Comment:\n%s\n", field(comment))
		}
	}
	for _, p := range paras[split:] {
		b.WriteString(p + "\n\n")
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// isApache tells the Apache License 2.0 as published (and as Debian keeps
// it) from a modified copy: licensecheck matches the terms, and the
// appendix is optional.
func isApache(text string) bool {
	cov := licensecheck.Scan([]byte(text))
	return len(cov.Match) == 1 && cov.Match[0].ID == apache20 && cov.Percent > 95
}

// notices is the plain text file of every license and notice file, verbatim.
func notices(std module, mods []module, installed string) string {
	rule := strings.Repeat("=", 78)
	var b strings.Builder
	fmt.Fprintf(&b, "Third-party software in %s\n\n", installed)
	fmt.Fprintf(&b, "%s is a static Go binary. Besides syscheckd's own code (Apache-2.0,\nsee LICENSE) it holds the Go standard library and runtime and the Go\nmodules below. Their license and notice files follow, verbatim.\n\n", installed)
	all := append([]module{std}, mods...)
	for _, m := range all {
		var ids []string
		for _, f := range m.Files {
			if f.License != "" && !slices.Contains(ids, f.License) {
				ids = append(ids, f.License)
			}
		}
		name := m.Path + " " + m.Version
		if m.Path == "std" {
			name = "Go standard library and runtime " + m.Version
		}
		fmt.Fprintf(&b, "  %-60s %s\n", name, strings.Join(ids, ", "))
	}
	for _, m := range all {
		name := m.Path + " " + m.Version
		if m.Path == "std" {
			name = "Go standard library and runtime " + m.Version
		}
		for _, f := range m.Files {
			fmt.Fprintf(&b, "\n%s\n%s: %s", rule, name, f.Rel)
			if f.License != "" {
				fmt.Fprintf(&b, " (%s)", f.License)
			}
			fmt.Fprintf(&b, "\n%s\n\n%s\n", rule, strings.TrimRight(f.Text, "\n"))
		}
	}
	return b.String()
}
