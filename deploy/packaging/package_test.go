//go:build integration

package packaging

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/syscheckd/syscheckd/deploy/testbed"
)

// testVersion is the package version the test builds.
const testVersion = "1.2.3"

// run runs a command and returns its standard output; it fails the test with
// everything the command printed if the command fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// moduleRoot is the directory of syscheckd's go.mod, found the way the go
// command finds it.
func moduleRoot(t *testing.T) string {
	t.Helper()
	goBin := testbed.RequireTool(t, "go", "install Go from https://go.dev/dl/")
	gomod := strings.TrimSpace(run(t, ".", nil, goBin, "env", "GOMOD"))
	if gomod == "" || gomod == os.DevNull {
		t.Fatalf("go env GOMOD = %q: not inside the syscheckd module", gomod)
	}
	return filepath.Dir(gomod)
}

// daemonBinary builds ./cmd/syscheckd statically for linux/goarch, unless
// SYSCHECKD_BINARY names a binary of this machine's architecture to package
// instead.
func daemonBinary(t *testing.T, root, goarch string) string {
	t.Helper()
	if bin := os.Getenv("SYSCHECKD_BINARY"); bin != "" && goarch == runtime.GOARCH {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("packaging SYSCHECKD_BINARY=%s instead of building ./cmd/syscheckd", abs)
		return abs
	}
	bin := filepath.Join(t.TempDir(), "syscheckd")
	run(t, root, []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + goarch},
		testbed.RequireTool(t, "go", "install Go from https://go.dev/dl/"),
		"build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/syscheckd")
	return bin
}

// shipped maps each file in the packages to the repository file it must be a
// byte-for-byte copy of ("" for what build.sh generates, checked by
// TestPackages/generated instead).
type shipped struct {
	path, src string
	mode      string // as ls -l prints it
}

// common is what both packages ship at the same place.
func common(t *testing.T, root, bin string) []shipped {
	files := []shipped{
		{"/etc/syscheckd/syscheckd.yml", "deploy/config/syscheckd.yml", "-rw-r--r--"},
		{"/usr/bin/syscheckd", bin, "-rwxr-xr-x"},
		{"/usr/share/bash-completion/completions/syscheckd", "", "-rw-r--r--"},
		{"/usr/share/man/man1/syscheckd.1.gz", "", "-rw-r--r--"},
		{"/usr/share/syscheckd/grafana/syscheckd.json", "deploy/grafana/syscheckd.json", "-rw-r--r--"},
		{"/usr/share/syscheckd/prometheus/alertmanager-inhibit.yml", "deploy/prometheus/alertmanager-inhibit.yml", "-rw-r--r--"},
		{"/usr/share/syscheckd/prometheus/runbook.md", "deploy/prometheus/runbook.md", "-rw-r--r--"},
		{"/usr/share/syscheckd/prometheus/syscheckd.rules.yml", "deploy/prometheus/syscheckd.rules.yml", "-rw-r--r--"},
	}
	// Every .libsonnet of the mixin, whatever its directory.
	mixin := filepath.Join(root, "deploy/mixin")
	err := filepath.WalkDir(mixin, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".libsonnet") {
			return err
		}
		rel, err := filepath.Rel(mixin, path)
		files = append(files, shipped{"/usr/share/syscheckd/mixin/" + filepath.ToSlash(rel), "deploy/mixin/" + filepath.ToSlash(rel), "-rw-r--r--"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sorted(files []shipped) []shipped {
	slices.SortFunc(files, func(a, b shipped) int { return strings.Compare(a.path, b.path) })
	return files
}

func debFiles(t *testing.T, root, bin string) []shipped {
	return sorted(append(common(t, root, bin),
		shipped{"/etc/default/syscheckd", "deploy/systemd/default", "-rw-r--r--"},
		shipped{"/lib/systemd/system/syscheckd.service", "deploy/systemd/syscheckd.service", "-rw-r--r--"},
		shipped{"/lib/systemd/system/syscheckd.socket", "deploy/systemd/syscheckd.socket", "-rw-r--r--"},
		shipped{"/usr/share/doc/syscheckd/changelog.Debian.gz", "", "-rw-r--r--"},
		shipped{"/usr/share/doc/syscheckd/copyright", "", "-rw-r--r--"},
		shipped{"/usr/share/lintian/overrides/syscheckd", "deploy/packaging/lintian/overrides", "-rw-r--r--"},
		shipped{"/usr/share/zsh/vendor-completions/_syscheckd", "", "-rw-r--r--"},
	))
}

// rpmDirs are the directories the rpm owns: its own, not the system's.
var rpmDirs = []string{
	"/etc/syscheckd",
	"/usr/share/licenses/syscheckd",
	"/usr/share/syscheckd",
	"/usr/share/syscheckd/grafana",
	"/usr/share/syscheckd/mixin",
	"/usr/share/syscheckd/prometheus",
}

func rpmFiles(t *testing.T, root, bin string) []shipped {
	return sorted(append(common(t, root, bin),
		shipped{"/etc/sysconfig/syscheckd", "deploy/systemd/default", "-rw-r--r--"},
		shipped{"/usr/lib/systemd/system-preset/50-syscheckd.preset", "deploy/systemd/50-syscheckd.preset", "-rw-r--r--"},
		shipped{"/usr/lib/systemd/system/syscheckd.service", "deploy/systemd/syscheckd.service", "-rw-r--r--"},
		shipped{"/usr/lib/systemd/system/syscheckd.socket", "deploy/systemd/syscheckd.socket", "-rw-r--r--"},
		shipped{"/usr/share/licenses/syscheckd/LICENSE", "LICENSE", "-rw-r--r--"},
		// Compared with a second run of the generator in TestPackages.
		shipped{"/usr/share/licenses/syscheckd/THIRD_PARTY_NOTICES", "", "-rw-r--r--"},
		shipped{"/usr/share/zsh/site-functions/_syscheckd", "", "-rw-r--r--"},
	))
}

func readSource(t *testing.T, root, src string) []byte {
	t.Helper()
	if !filepath.IsAbs(src) {
		src = filepath.Join(root, src)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// packageArch is an architecture the packages are built for, as Go, Debian,
// rpm and ELF name it.
type packageArch struct {
	goarch, deb, rpm string
	machine          elf.Machine
}

var packageArches = []packageArch{
	{"amd64", "amd64", "x86_64", elf.EM_X86_64},
	{"arm64", "arm64", "aarch64", elf.EM_AARCH64},
}

// TestPackages builds the packages of each architecture with build.sh and
// checks what is in them. The binary that runs here (for its flags and
// --config.check) is this machine's; the one in the package is checked for
// its architecture.
func TestPackages(t *testing.T) {
	root := moduleRoot(t)
	hostBin := daemonBinary(t, root, runtime.GOARCH)
	for _, a := range packageArches {
		t.Run(a.goarch, func(t *testing.T) { testPackages(t, root, a, hostBin) })
	}
}

func testPackages(t *testing.T, root string, a packageArch, hostBin string) {
	dpkgDeb := testbed.RequireTool(t, "dpkg-deb", "apt-get install dpkg")
	rpmBin := testbed.RequireTool(t, "rpm", "apt-get install rpm")
	lintian := testbed.RequireTool(t, "lintian", "apt-get install lintian")

	bin := daemonBinary(t, root, a.goarch)
	if f, err := elf.Open(bin); err != nil || f.Machine != a.machine {
		t.Fatalf("%s: %v, ELF machine %v, want %v", bin, err, f, a.machine)
	} else {
		_ = f.Close() // read-only
	}
	out := t.TempDir()
	run(t, root, []string{"SYSCHECKD_BINARY=" + bin, "SYSCHECKD_ARCH=" + a.goarch, "SYSCHECKD_VERSION=" + testVersion},
		filepath.Join(root, "deploy/packaging/build.sh"), out)

	deb := filepath.Join(out, "syscheckd_"+testVersion+"-1_"+a.deb+".deb")
	rpm := filepath.Join(out, "syscheckd-"+testVersion+"-1."+a.rpm+".rpm")
	for _, p := range []string{deb, rpm} {
		if _, err := os.Stat(p); err != nil {
			entries, _ := os.ReadDir(out)
			t.Fatalf("build.sh did not produce %s (%v); it produced %v", filepath.Base(p), err, entries)
		}
	}

	tree := t.TempDir()
	run(t, ".", nil, dpkgDeb, "-x", deb, tree)
	// The license notices once more, from the same binary: what the
	// packages hold must be this, byte for byte (reproducible).
	regen := t.TempDir()
	run(t, root, nil, "go", "run", "-C", "deploy/packaging/notices", ".",
		"-binary", bin, "-module-root", root, "-copyright-header", filepath.Join(root, "deploy/packaging/copyright"),
		"-copyright", filepath.Join(regen, "copyright"), "-notices", filepath.Join(regen, "THIRD_PARTY_NOTICES"))

	t.Run("deb/contents", func(t *testing.T) {
		want := debFiles(t, root, bin)
		// dpkg-deb -c: "-rw-r--r-- root/root  1276 2026-01-01 00:00 ./etc/default/syscheckd"
		got := map[string]string{}
		for line := range strings.Lines(run(t, ".", nil, dpkgDeb, "-c", deb)) {
			f := strings.Fields(line)
			if len(f) < 6 || !strings.HasPrefix(f[0], "-") {
				continue
			}
			got[strings.TrimPrefix(f[5], ".")] = f[0]
		}
		var wantPaths, gotPaths []string
		for _, w := range want {
			wantPaths = append(wantPaths, w.path)
			if got[w.path] != w.mode && got[w.path] != "" {
				t.Errorf("%s has mode %s, want %s", w.path, got[w.path], w.mode)
			}
		}
		for p := range got {
			gotPaths = append(gotPaths, p)
		}
		slices.Sort(gotPaths)
		if !slices.Equal(gotPaths, wantPaths) {
			t.Fatalf("deb files:\n got %q\nwant %q", gotPaths, wantPaths)
		}

		for _, w := range want {
			if w.src == "" {
				continue
			}
			data, err := os.ReadFile(filepath.Join(tree, w.path))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, readSource(t, root, w.src)) {
				t.Errorf("%s in the deb differs from %s", w.path, w.src)
			}
		}
	})

	t.Run("deb/control", func(t *testing.T) {
		t.Logf("dpkg-deb -I:\n%s", run(t, ".", nil, dpkgDeb, "-I", deb))
		fields := map[string]string{
			"Package":      "syscheckd",
			"Version":      testVersion + "-1",
			"Architecture": a.deb,
			"Section":      "admin",
		}
		for field, want := range fields {
			if got := strings.TrimSpace(run(t, ".", nil, dpkgDeb, "-f", deb, field)); got != want {
				t.Errorf("control field %s=%q, want %q", field, got, want)
			}
		}

		control := t.TempDir()
		run(t, ".", nil, dpkgDeb, "-e", deb, control)
		conffiles, err := os.ReadFile(filepath.Join(control, "conffiles"))
		if err != nil {
			t.Fatalf("no conffiles: %v", err)
		}
		if got, want := strings.Fields(string(conffiles)), []string{"/etc/default/syscheckd", "/etc/syscheckd/syscheckd.yml"}; !slices.Equal(got, want) {
			t.Errorf("conffiles %q, want %q", got, want)
		}
		for script, src := range map[string]string{
			"postinst": "deploy/packaging/scripts/postinst.sh",
			"prerm":    "deploy/packaging/scripts/prerm.sh",
			"postrm":   "deploy/packaging/scripts/postrm.sh",
		} {
			path := filepath.Join(control, script)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("no %s: %v", script, err)
				continue
			}
			if !bytes.Equal(data, readSource(t, root, src)) {
				t.Errorf("%s differs from %s", script, src)
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm()&0o111 == 0 {
				t.Errorf("%s is not executable (%v)", script, err)
			}
		}
	})

	// lintian must find no error and no warning; the info and pedantic
	// tags are logged for the record. Overrides are in lintian/overrides,
	// each with its reason.
	t.Run("deb/lintian", func(t *testing.T) {
		cmd := exec.CommandContext(t.Context(), lintian, "--info", "--display-info", "--pedantic",
			"--tag-display-limit", "0", "--fail-on", "error,warning", deb)
		output, err := cmd.CombinedOutput()
		var bad []string
		for line := range strings.Lines(string(output)) {
			if strings.HasPrefix(line, "E: ") || strings.HasPrefix(line, "W: ") {
				bad = append(bad, strings.TrimSpace(line))
			}
		}
		t.Logf("lintian --info --display-info --pedantic:\n%s", output)
		if len(bad) > 0 {
			t.Fatalf("lintian reports errors or warnings:\n%s", strings.Join(bad, "\n"))
		}
		// Exit status 1 means tags at --fail-on's level, anything else that
		// lintian itself broke.
		if err != nil {
			t.Fatalf("lintian failed: %v", err)
		}
	})

	t.Run("generated", func(t *testing.T) { checkGenerated(t, root, bin, hostBin, tree, regen) })

	t.Run("tarball", func(t *testing.T) { checkTarball(t, root, out, a, bin, regen) })

	t.Run("rpm", func(t *testing.T) {
		want := rpmFiles(t, root, bin)
		dirs := slices.Clone(rpmDirs)
		for _, w := range want {
			// The mixin's subdirectories, as type: tree makes them.
			if d := filepath.Dir(w.path); strings.HasPrefix(d, "/usr/share/syscheckd/mixin/") && !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
		wantPaths := slices.Clone(dirs)
		for _, w := range want {
			wantPaths = append(wantPaths, w.path)
		}
		slices.Sort(wantPaths)
		gotPaths := strings.Fields(run(t, ".", nil, rpmBin, "-qlp", rpm))
		if !slices.Equal(gotPaths, wantPaths) {
			t.Fatalf("rpm files:\n got %q\nwant %q", gotPaths, wantPaths)
		}

		// --dump: path size mtime sha256 mode owner group isconfig ...
		modes := map[string]string{"-rw-r--r--": "0100644", "-rwxr-xr-x": "0100755"}
		dump := map[string][]string{}
		for line := range strings.Lines(run(t, ".", nil, rpmBin, "-qp", "--dump", rpm)) {
			f := strings.Fields(line)
			if len(f) >= 8 {
				dump[f[0]] = f
			}
		}
		for _, w := range want {
			f := dump[w.path]
			if f == nil {
				t.Errorf("%s missing from rpm --dump", w.path)
				continue
			}
			if f[4] != modes[w.mode] || f[5] != "root" || f[6] != "root" {
				t.Errorf("%s: mode %s owner %s:%s, want %s root:root", w.path, f[4], f[5], f[6], modes[w.mode])
			}
			src := w.src
			if w.path == "/usr/share/licenses/syscheckd/THIRD_PARTY_NOTICES" {
				src = filepath.Join(regen, "THIRD_PARTY_NOTICES")
			}
			if src == "" {
				continue
			}
			if got, want := f[3], sha256Hex(readSource(t, root, src)); got != want {
				t.Errorf("%s in the rpm differs from %s (sha256 %s, want %s)", w.path, w.src, got, want)
			}
		}

		for _, d := range dirs {
			if f := dump[d]; f == nil || f[4] != "040755" || f[5] != "root" || f[6] != "root" {
				t.Errorf("directory %s: rpm --dump %q, want mode 040755 root:root", d, f)
			}
		}

		flags := run(t, ".", nil, rpmBin, "-qp", "--qf", `[%{FILENAMES} %{FILEFLAGS:fflags}\n]`, rpm)
		for _, want := range []string{
			"/etc/sysconfig/syscheckd cn\n",     // %config(noreplace)
			"/etc/syscheckd/syscheckd.yml cn\n", // %config(noreplace)
			"/usr/share/licenses/syscheckd/LICENSE l\n",
			"/usr/share/licenses/syscheckd/THIRD_PARTY_NOTICES l\n",
		} {
			if !strings.Contains(flags, want) {
				t.Errorf("rpm file flags lack %q:\n%s", strings.TrimSpace(want), flags)
			}
		}

		header := run(t, ".", nil, rpmBin, "-qp", "--qf", `%{NAME}|%{VERSION}|%{RELEASE}|%{ARCH}|%{LICENSE}`, rpm)
		if want := "syscheckd|" + testVersion + "|1|" + a.rpm + "|Apache-2.0"; header != want {
			t.Errorf("rpm header %q, want %q", header, want)
		}

		for tag, src := range map[string]string{
			"POSTIN": "deploy/packaging/scripts/rpm/post.sh",
			"PREUN":  "deploy/packaging/scripts/rpm/preun.sh",
			"POSTUN": "deploy/packaging/scripts/rpm/postun.sh",
		} {
			got := run(t, ".", nil, rpmBin, "-qp", "--qf", "%{"+tag+"}", rpm)
			if strings.TrimSpace(got) != strings.TrimSpace(string(readSource(t, root, src))) {
				t.Errorf("rpm %%{%s} differs from %s:\n%s", tag, src, got)
			}
		}
	})
}

// checkGenerated checks what build.sh generated from the binary, as the
// .deb installs it in tree: the man page, the completions, the license
// notices, and that the mixin's imports resolve where it is installed.
func checkGenerated(t *testing.T, root, bin, hostBin, tree, regen string) {
	// The flags a user sees: kingpin completes all but the hidden ones.
	var flags []string
	for _, f := range strings.Fields(run(t, ".", nil, hostBin, "--completion-bash", "--")) {
		if strings.HasPrefix(f, "--") {
			flags = append(flags, f)
		}
	}
	if !slices.Contains(flags, "--probe.syscall") || !slices.Contains(flags, "--web.listen-address") {
		t.Fatalf("%s --completion-bash -- lists %q", hostBin, flags)
	}

	t.Run("man page", func(t *testing.T) {
		page := filepath.Join(tree, "usr/share/man/man1/syscheckd.1.gz")
		raw, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		// gzip -9n: no name, no time stamp (bytes 4-7) in the header.
		if len(raw) < 10 || raw[3]&0x08 != 0 || !bytes.Equal(raw[4:8], []byte{0, 0, 0, 0}) {
			t.Errorf("syscheckd.1.gz carries a file name or time stamp: not reproducible (gzip -n)")
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		source, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(source), `\-`, "-")
		for _, f := range flags {
			if !strings.Contains(text, `\fB`+f) && !strings.Contains(text, `\fB-h, `+f) {
				t.Errorf("the man page lacks %s", f)
			}
		}
		for _, section := range []string{".SH NAME\nsyscheckd \\- ", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS", ".SH FILES", ".SH \"EXIT STATUS\"", ".SH \"SEE ALSO\""} {
			if !strings.Contains(string(source), section) {
				t.Errorf("the man page lacks %q", section)
			}
		}
		if !regexp.MustCompile(`(?m)^\.TH SYSCHECKD 1 "[0-9]{4}-[0-9]{2}-[0-9]{2}" "syscheckd ` + regexp.QuoteMeta(testVersion) + `" "User Commands"$`).Match(source) {
			t.Errorf("the man page's .TH line: %q", strings.SplitN(string(source), "\n", 2)[0])
		}
		manBin := testbed.RequireTool(t, "man", "apt-get install man-db")
		cmd := exec.CommandContext(t.Context(), manBin, "--warnings", "-l", page)
		cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "LC_ALL=C.UTF-8")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("man --warnings -l: %v\n%s", err, stderr.String())
		}
		lines := strings.SplitAfter(stdout.String(), "\n")
		head := strings.Join(lines[:min(20, len(lines))], "")
		t.Logf("man -l syscheckd.1.gz | head -20:\n%s", head)
	})

	t.Run("bash completion", func(t *testing.T) {
		bash := testbed.RequireTool(t, "bash", "apt-get install bash")
		script := filepath.Join(tree, "usr/share/bash-completion/completions/syscheckd")
		// What bash does on `syscheckd --web.<TAB>`: the completion runs
		// the syscheckd on PATH with --completion-bash, which prints and
		// exits before anything is probed.
		cmd := exec.CommandContext(t.Context(), bash, "-c", `source "$1"
			COMP_WORDS=(syscheckd --web.); COMP_CWORD=1; COMP_LINE="syscheckd --web."; COMP_POINT=${#COMP_LINE}
			spec=$(complete -p syscheckd) || exit 1
			fn=${spec#*-F }; fn=${fn%% *}
			"$fn" syscheckd --web. syscheckd
			printf '%s\n' "${COMPREPLY[@]}"`, "bash", script)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(hostBin)+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash completion: %v\n%s", err, out)
		}
		got := strings.Fields(string(out))
		slices.Sort(got)
		var want []string
		for _, f := range flags {
			if strings.HasPrefix(f, "--web.") {
				want = append(want, f)
			}
		}
		slices.Sort(want)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("syscheckd --web.<TAB> completes %q, want %q", got, want)
		}
		if filepath.Base(hostBin) != "syscheckd" {
			t.Errorf("the binary is %s: the completion runs `syscheckd`", hostBin)
		}
	})

	t.Run("zsh completion", func(t *testing.T) {
		dir := filepath.Join(tree, "usr/share/zsh/vendor-completions")
		data, err := os.ReadFile(filepath.Join(dir, "_syscheckd"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), "#compdef syscheckd\n") {
			t.Errorf("_syscheckd does not start with #compdef syscheckd:\n%s", data)
		}
		// As compinit autoloads it from $fpath, the first call must
		// complete already; compadd, a builtin only inside completion
		// widgets, is stood in for by a function that prints the matches.
		zsh := testbed.RequireTool(t, "zsh", "apt-get install zsh")
		cmd := exec.CommandContext(t.Context(), zsh, "-f", "-c", `fpath=("$1" $fpath); autoload -Uz _syscheckd
			compadd() { [[ $1 == -a ]] && print -l -- ${(P)2} }
			words=(syscheckd --web.); CURRENT=2
			_syscheckd`, "zsh", dir)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(hostBin)+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("zsh completion: %v\n%s", err, out)
		}
		for _, f := range flags {
			if strings.HasPrefix(f, "--web.") && !slices.Contains(strings.Fields(string(out)), f) {
				t.Errorf("the first syscheckd --web.<TAB> in zsh does not offer %s; it offers:\n%s", f, out)
			}
		}
	})

	// Every module linked into the binary, as its build information lists
	// it, has its paragraph in the copyright file with its license text,
	// and its entry in the rpm's notices (same generator, checked in
	// TestPackages/rpm for presence).
	t.Run("license notices", func(t *testing.T) {
		bi, err := buildinfo.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		copyright, err := os.ReadFile(filepath.Join(tree, "usr/share/doc/syscheckd/copyright"))
		if err != nil {
			t.Fatal(err)
		}
		// The comments are wrapped: a module and its version may sit on two
		// lines.
		unwrapped := strings.ReplaceAll(string(copyright), "\n ", " ")
		if len(bi.Deps) < 10 {
			t.Fatalf("the binary's build information lists %d modules", len(bi.Deps))
		}
		for _, dep := range bi.Deps {
			want := "Files: " + dep.Path + "/*\n"
			if !strings.Contains(string(copyright), want) || !strings.Contains(unwrapped, " Go module "+dep.Path+" "+dep.Version+" ") {
				t.Errorf("the copyright file has no paragraph for %s %s", dep.Path, dep.Version)
			}
		}
		for _, want := range []string{
			"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n",
			"Files: go/*\n",
			"Files: github.com/prometheus/client_golang/internal/github.com/golang/gddo/*\nCopyright: 2013 The Go Authors",
			"Permission is hereby granted, free of charge", // the MIT text, not only its name
			"/usr/share/common-licenses/Apache-2.0",
		} {
			if !strings.Contains(string(copyright), want) {
				t.Errorf("the copyright file lacks %q", want)
			}
		}
		data, err := os.ReadFile(filepath.Join(regen, "THIRD_PARTY_NOTICES"))
		if err != nil {
			t.Fatal(err)
		}
		for _, dep := range bi.Deps {
			if !strings.Contains(string(data), "\n"+dep.Path+" "+dep.Version+": ") {
				t.Errorf("THIRD_PARTY_NOTICES has no license file of %s %s", dep.Path, dep.Version)
			}
		}
		regenerated, err := os.ReadFile(filepath.Join(regen, "copyright"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(regenerated, copyright) {
			t.Errorf("the copyright file is not reproducible: a second run of notices/ differs")
		}
	})

	// The example configuration as installed is valid, and probes what the
	// defaults probe (which is why ARGS can stay empty). --config.check
	// only reads the file and uname: it calls nothing.
	t.Run("example config", func(t *testing.T) {
		out := run(t, ".", nil, hostBin, "--config.check", "--config.file="+filepath.Join(tree, "etc/syscheckd/syscheckd.yml"))
		if !strings.Contains(out, "getProcessInfo: syscall 335 every 30s") {
			t.Errorf("syscheckd --config.check of the installed example:\n%s\nwant the default probe, getProcessInfo: syscall 335 every 30s", out)
		}
	})

	// dashboards.libsonnet imports ../../grafana/syscheckd.json: every
	// import of the installed mixin must find its file where it is
	// installed.
	t.Run("mixin imports", func(t *testing.T) {
		mixin := filepath.Join(tree, "usr/share/syscheckd/mixin")
		imp := regexp.MustCompile(`\bimport(?:str|bin)?\s+['"]([^'"]+)['"]`)
		n := 0
		err := filepath.WalkDir(mixin, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var code strings.Builder
			for line := range strings.Lines(string(data)) {
				if l := strings.TrimSpace(line); !strings.HasPrefix(l, "//") && !strings.HasPrefix(l, "#") {
					code.WriteString(line)
				}
			}
			for _, m := range imp.FindAllStringSubmatch(code.String(), -1) {
				// The mixin's own files import relative to themselves, or
				// to the mixin's root (jsonnet -J).
				n++
				if _, err := os.Stat(filepath.Join(filepath.Dir(path), m[1])); err == nil {
					continue
				}
				if _, err := os.Stat(filepath.Join(mixin, m[1])); err == nil {
					continue
				}
				rel, _ := filepath.Rel(tree, path)
				t.Errorf("/%s imports %q, which is not installed", rel, m[1])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("no imports found in the installed mixin")
		}
	})
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// checkTarball checks the release tarball of a: its directory, the shipped
// binary, LICENSE, the notices and the example configuration, and that
// SHA256SUMS lists every file in out with the right sum.
func checkTarball(t *testing.T, root, out string, a packageArch, bin, regen string) {
	name := "syscheckd-" + testVersion + ".linux-" + a.goarch
	tree := t.TempDir()
	tarBin := testbed.RequireTool(t, "tar", "apt-get install tar")
	listing := run(t, ".", nil, tarBin, "-tvzf", filepath.Join(out, name+".tar.gz"))
	t.Logf("tar -tvzf %s.tar.gz:\n%s", name, listing)
	for line := range strings.Lines(listing) {
		if f := strings.Fields(line); len(f) < 2 || f[1] != "0/0" {
			t.Errorf("not owned by 0/0: %s", line)
		}
	}
	run(t, ".", nil, tarBin, "-xzf", filepath.Join(out, name+".tar.gz"), "-C", tree)
	entries, err := os.ReadDir(filepath.Join(tree, name))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if want := []string{"LICENSE", "THIRD_PARTY_NOTICES", "syscheckd", "syscheckd.yml"}; !slices.Equal(got, want) {
		t.Fatalf("%s holds %q, want %q", name, got, want)
	}
	for file, src := range map[string]string{
		"syscheckd":           bin,
		"LICENSE":             "LICENSE",
		"syscheckd.yml":       "deploy/config/syscheckd.yml",
		"THIRD_PARTY_NOTICES": filepath.Join(regen, "THIRD_PARTY_NOTICES"),
	} {
		data, err := os.ReadFile(filepath.Join(tree, name, file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, readSource(t, root, src)) {
			t.Errorf("%s/%s differs from %s", name, file, src)
		}
	}

	sums := run(t, out, nil, testbed.RequireTool(t, "sha256sum", "apt-get install coreutils"), "--check", "--strict", "SHA256SUMS")
	files, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Name() != "SHA256SUMS" && !strings.Contains(sums, f.Name()+": OK") {
			t.Errorf("SHA256SUMS does not vouch for %s:\n%s", f.Name(), sums)
		}
	}
}
