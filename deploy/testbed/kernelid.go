package testbed

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// buildIDLine is readelf -n's line for the GNU build-id note (NT_GNU_BUILD_ID).
var buildIDLine = regexp.MustCompile(`(?m)^\s*Build ID: ([0-9a-f]+)$`)

// ELFBuildID returns the GNU build-id of an ELF file as `readelf -n` prints
// it: the independent witness against which the tests hold what syscheckd
// reads from the running kernel's /sys/kernel/notes.
func ELFBuildID(t testing.TB, path string) string {
	t.Helper()
	readelf := RequireTool(t, "readelf", "apt-get install binutils")
	out, err := exec.Command(readelf, "-n", path).Output()
	if err != nil {
		t.Fatalf("readelf -n %s: %v", path, err)
	}
	m := buildIDLine.FindSubmatch(out)
	if m == nil {
		t.Fatalf("readelf -n %s shows no GNU build-id:\n%s", path, out)
	}
	return string(m[1])
}

// BuildID returns the GNU build-id of k: from its vmlinux for a patched
// build, else from the ELF file compressed inside its bzImage (Debian's
// kernels also carry Xen notes, one of type 3 like the build-id's).
func BuildID(t testing.TB, k Kernel) string {
	t.Helper()
	if k.Vmlinux != "" {
		return ELFBuildID(t, k.Vmlinux)
	}
	return ImageBuildID(t, k.Image)
}

// ImageBuildID decompresses the kernel ELF file inside a bzImage (the
// payload its setup header points to: gzip, xz or zstd, the latter two
// followed by the 4-byte uncompressed size) and returns its build-id. An
// arm64 Image is vmlinux's loadable sections copied out raw, .notes
// among them: its build-id is read from the note in place.
func ImageBuildID(t testing.TB, image string) string {
	t.Helper()
	b, err := os.ReadFile(image)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) >= 0x40 && string(b[0x38:0x3c]) == "ARM\x64" {
		return arm64ImageBuildID(t, image, b)
	}
	if len(b) < 0x250 || string(b[0x202:0x206]) != "HdrS" {
		t.Fatalf("%s: not a bzImage (no HdrS setup header)", image)
	}
	setupSects := int(b[0x1f1])
	if setupSects == 0 {
		setupSects = 4
	}
	offset := (setupSects+1)*512 + int(binary.LittleEndian.Uint32(b[0x248:]))
	length := int(binary.LittleEndian.Uint32(b[0x24c:]))
	if offset+length > len(b) || length < 8 {
		t.Fatalf("%s: payload %d+%d outside the file (%d bytes)", image, offset, length, len(b))
	}
	payload := b[offset : offset+length]
	var elf []byte
	switch {
	case bytes.HasPrefix(payload, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(bytes.NewReader(payload))
		if err == nil {
			z.Multistream(false)
			elf, err = io.ReadAll(z)
		}
		if err != nil {
			t.Fatalf("%s: gunzip the payload: %v", image, err)
		}
	case bytes.HasPrefix(payload, []byte("\xfd7zXZ\x00")):
		elf = decompress(t, image, payload[:length-4], "xz-utils", "xz", "-dc")
	case bytes.HasPrefix(payload, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		elf = decompress(t, image, payload[:length-4], "zstd", "zstd", "-qdc")
	default:
		t.Fatalf("%s: payload compressed with an unknown method (% x)", image, payload[:6])
	}
	if !bytes.HasPrefix(elf, []byte("\x7fELF")) {
		t.Fatalf("%s: the decompressed payload is not an ELF file", image)
	}
	path := filepath.Join(t.TempDir(), "vmlinux")
	if err := os.WriteFile(path, elf, 0o600); err != nil {
		t.Fatal(err)
	}
	return ELFBuildID(t, path)
}

// gnuBuildIDNote is the header of a GNU build-id note as the kernel lays it
// out (little-endian): namesz 4, descsz 20 (SHA-1), type 3
// (NT_GNU_BUILD_ID), name "GNU\0".
var gnuBuildIDNote = []byte("\x04\x00\x00\x00\x14\x00\x00\x00\x03\x00\x00\x00GNU\x00")

// arm64ImageBuildID finds the kernel's GNU build-id note in the raw arm64
// Image b (the file image) and returns its 20 bytes in hex, as readelf -n
// prints them. The Image also embeds the vDSOs, ELF files with build-ids of
// their own: notes inside an embedded ELF file are skipped. It fails the
// test unless exactly one note is left.
func arm64ImageBuildID(t testing.TB, image string, b []byte) string {
	t.Helper()
	type span struct{ from, to int }
	var embedded []span
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte("\x7fELF"))
		if i < 0 {
			break
		}
		from := off + i
		off = from + 4
		f, err := elf.NewFile(bytes.NewReader(b[from:]))
		if err != nil {
			continue
		}
		end := 0
		for _, sec := range f.Sections {
			if sec.Type != elf.SHT_NOBITS && int(sec.Offset+sec.Size) > end {
				end = int(sec.Offset + sec.Size)
			}
		}
		embedded = append(embedded, span{from, from + end})
	}
	inEmbedded := func(at int) bool {
		for _, e := range embedded {
			if at >= e.from && at < e.to {
				return true
			}
		}
		return false
	}
	var ids []string
	for off := 0; ; {
		i := bytes.Index(b[off:], gnuBuildIDNote)
		if i < 0 {
			break
		}
		at := off + i
		start := at + len(gnuBuildIDNote)
		if start+20 > len(b) {
			break
		}
		if !inEmbedded(at) {
			ids = append(ids, hex.EncodeToString(b[start:start+20]))
		}
		off = start
	}
	if len(ids) != 1 {
		t.Fatalf("%s: %d GNU build-id notes in the arm64 Image (%v), want 1", image, len(ids), ids)
	}
	return ids[0]
}

// decompress pipes data through tool, from Debian package pkg.
func decompress(t testing.TB, image string, data []byte, pkg, tool string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(RequireTool(t, tool, "apt-get install "+pkg), args...)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %s %s of the payload: %v\n%s", image, tool, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// ManifestEntry runs what kernel CI runs for a build it ships, on the host:
//
//	syscheckd --kernel.print-entry --kernel.vmlinux=VMLINUX --kernel.entry-name=NAME --kernel.release=RELEASE
//
// and returns the entry it prints (a YAML list item). k must be a patched
// build (it has a vmlinux); syscheckd is a syscheckd binary.
func ManifestEntry(t testing.TB, syscheckd, name string, k Kernel) string {
	t.Helper()
	if k.Vmlinux == "" {
		t.Fatalf("kernel %s has no vmlinux to make a manifest entry from", k.Image)
	}
	cmd := exec.Command(syscheckd, "--kernel.print-entry", "--kernel.vmlinux="+k.Vmlinux,
		"--kernel.entry-name="+name, "--kernel.release="+k.Release)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	return string(out)
}

// WriteManifest writes a kernel manifest with entries (from ManifestEntry)
// to path and returns its text.
func WriteManifest(t testing.TB, path string, entries ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("kernels:\n")
	for _, e := range entries {
		b.WriteString(e)
		if !strings.HasSuffix(e, "\n") {
			b.WriteString("\n")
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// BuildIDLabel returns the build_id label of the syscheck_kernel_info
// series in m, and whether there is exactly one such series.
func (m Metrics) BuildIDLabel() (string, bool) {
	series := m["syscheck_kernel_info"].GetMetric()
	if len(series) != 1 {
		return "", false
	}
	for _, l := range series[0].GetLabel() {
		if l.GetName() == "build_id" {
			return l.GetValue(), true
		}
	}
	return "", false
}

// Excerpt returns the lines of http://addr/metrics, as served, that are
// samples of the named metrics, for a test log.
func Excerpt(addr string, names ...string) (string, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close() //nolint:errcheck // fully read or abandoned; nothing to report
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, line := range strings.Split(string(body), "\n") {
		for _, name := range names {
			if rest, ok := strings.CutPrefix(line, name); ok && (strings.HasPrefix(rest, "{") || strings.HasPrefix(rest, " ")) {
				b.WriteString(line + "\n")
			}
		}
	}
	return b.String(), nil
}
