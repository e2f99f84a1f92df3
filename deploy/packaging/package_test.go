//go:build integration

package packaging

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
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

// daemonBinary builds ./cmd/syscheckd statically, unless SYSCHECKD_BINARY
// names a binary to package instead.
func daemonBinary(t *testing.T, root string) string {
	t.Helper()
	if bin := os.Getenv("SYSCHECKD_BINARY"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("packaging SYSCHECKD_BINARY=%s instead of building ./cmd/syscheckd", abs)
		return abs
	}
	bin := filepath.Join(t.TempDir(), "syscheckd")
	run(t, root, []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"},
		testbed.RequireTool(t, "go", "install Go from https://go.dev/dl/"),
		"build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/syscheckd")
	return bin
}

// shipped maps each file in the packages to the repository file it must be a
// byte-for-byte copy of.
type shipped struct {
	path, src string
	mode      string // as ls -l prints it
}

func debFiles(bin string) []shipped {
	return []shipped{
		{"/etc/default/syscheckd", "deploy/systemd/default", "-rw-r--r--"},
		{"/lib/systemd/system/syscheckd.service", "deploy/systemd/syscheckd.service", "-rw-r--r--"},
		{"/lib/systemd/system/syscheckd.socket", "deploy/systemd/syscheckd.socket", "-rw-r--r--"},
		{"/usr/bin/syscheckd", bin, "-rwxr-xr-x"},
		{"/usr/share/doc/syscheckd/changelog.Debian.gz", "", "-rw-r--r--"},
		{"/usr/share/doc/syscheckd/copyright", "deploy/packaging/copyright", "-rw-r--r--"},
		{"/usr/share/lintian/overrides/syscheckd", "deploy/packaging/lintian/overrides", "-rw-r--r--"},
	}
}

func rpmFiles(bin string) []shipped {
	return []shipped{
		{"/etc/default/syscheckd", "deploy/systemd/default", "-rw-r--r--"},
		{"/usr/bin/syscheckd", bin, "-rwxr-xr-x"},
		{"/usr/lib/systemd/system/syscheckd.service", "deploy/systemd/syscheckd.service", "-rw-r--r--"},
		{"/usr/lib/systemd/system/syscheckd.socket", "deploy/systemd/syscheckd.socket", "-rw-r--r--"},
		{"/usr/share/licenses/syscheckd/copyright", "deploy/packaging/copyright", "-rw-r--r--"},
	}
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

// TestPackages builds both packages with build.sh and checks what is in them.
func TestPackages(t *testing.T) {
	dpkgDeb := testbed.RequireTool(t, "dpkg-deb", "apt-get install dpkg")
	rpmBin := testbed.RequireTool(t, "rpm", "apt-get install rpm")
	lintian := testbed.RequireTool(t, "lintian", "apt-get install lintian")

	root := moduleRoot(t)
	bin := daemonBinary(t, root)
	out := t.TempDir()
	run(t, root, []string{"SYSCHECKD_BINARY=" + bin, "SYSCHECKD_VERSION=" + testVersion},
		filepath.Join(root, "deploy/packaging/build.sh"), out)

	deb := filepath.Join(out, "syscheckd_"+testVersion+"-1_amd64.deb")
	rpm := filepath.Join(out, "syscheckd-"+testVersion+"-1.x86_64.rpm")
	for _, p := range []string{deb, rpm} {
		if _, err := os.Stat(p); err != nil {
			entries, _ := os.ReadDir(out)
			t.Fatalf("build.sh did not produce %s (%v); it produced %v", filepath.Base(p), err, entries)
		}
	}

	t.Run("deb/contents", func(t *testing.T) {
		want := debFiles(bin)
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

		tree := t.TempDir()
		run(t, ".", nil, dpkgDeb, "-x", deb, tree)
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
			"Architecture": "amd64",
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
		if got, want := strings.Fields(string(conffiles)), []string{"/etc/default/syscheckd"}; !slices.Equal(got, want) {
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

	t.Run("deb/lintian", func(t *testing.T) {
		cmd := exec.CommandContext(t.Context(), lintian, "--no-tag-display-limit", deb)
		output, err := cmd.CombinedOutput()
		var errs []string
		for line := range strings.Lines(string(output)) {
			if strings.HasPrefix(line, "E: ") {
				errs = append(errs, strings.TrimSpace(line))
			}
		}
		t.Logf("lintian:\n%s", output)
		if len(errs) > 0 {
			t.Fatalf("lintian reports errors:\n%s", strings.Join(errs, "\n"))
		}
		// Exit status 1 means tags at --fail-on's level (errors by default),
		// anything else that lintian itself broke.
		if err != nil {
			t.Fatalf("lintian failed: %v", err)
		}
	})

	t.Run("rpm", func(t *testing.T) {
		want := rpmFiles(bin)
		var wantPaths []string
		for _, w := range want {
			wantPaths = append(wantPaths, w.path)
		}
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
			if got, want := f[3], sha256Hex(readSource(t, root, w.src)); got != want {
				t.Errorf("%s in the rpm differs from %s (sha256 %s, want %s)", w.path, w.src, got, want)
			}
		}

		flags := run(t, ".", nil, rpmBin, "-qp", "--qf", `[%{FILENAMES} %{FILEFLAGS:fflags}\n]`, rpm)
		if !strings.Contains(flags, "/etc/default/syscheckd cn\n") {
			t.Errorf("/etc/default/syscheckd is not %%config(noreplace):\n%s", flags)
		}

		header := run(t, ".", nil, rpmBin, "-qp", "--qf", `%{NAME}|%{VERSION}|%{RELEASE}|%{ARCH}|%{LICENSE}`, rpm)
		if want := "syscheckd|" + testVersion + "|1|x86_64|Apache-2.0"; header != want {
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

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
