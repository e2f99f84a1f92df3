package kernel

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// realNotes is /sys/kernel/notes of the development machine (Linux
// 6.18.44-fc-v857, x86_64): a GNU build-id note, two "Linux" notes and two
// "Xen" notes.
const realNotes = "testdata/root/sys/kernel/notes"

// realBuildID is what `readelf -n` prints for realNotes' vmlinux.
const realBuildID = "24a3598fd700114d0a1b1a4871badcee75d0acac"

// gnuNoteEnd is where realNotes' first note, the build-id, ends.
const gnuNoteEnd = 12 + 4 + 20

func readNotes(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(realNotes)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// note encodes one little-endian note, padded to 4 bytes.
func note(name string, typ uint32, desc []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(name)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(desc)))
	b = binary.LittleEndian.AppendUint32(b, typ)
	b = append(b, name...)
	b = append(b, make([]byte, int(alignUp(uint64(len(b)), 4))-len(b))...)
	b = append(b, desc...)
	return append(b, make([]byte, int(alignUp(uint64(len(b)), 4))-len(b))...)
}

// header is a note header alone.
func header(namesz, descsz, typ uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, namesz)
	b = binary.LittleEndian.AppendUint32(b, descsz)
	return binary.LittleEndian.AppendUint32(b, typ)
}

func TestBuildIDFromNotes(t *testing.T) {
	real := readNotes(t)
	id := []byte{0xde, 0xad, 0xbe, 0xef}
	tests := []struct {
		name    string
		in      []byte
		want    string
		wantErr string
	}{
		{name: "this machine's kernel", in: real, want: realBuildID},
		{name: "build-id after the other notes", in: append(bytes.Clone(real[gnuNoteEnd:]), real[:gnuNoteEnd]...), want: realBuildID},
		{name: "name without its NUL", in: note("GNU", 3, id), want: "deadbeef"},
		{name: "last note unpadded", in: note("GNU\x00", 3, []byte{1, 2, 3})[:12+4+3], want: "010203"},
		{name: "first build-id wins", in: append(note("GNU\x00", 3, id), note("GNU\x00", 3, []byte{1})...), want: "deadbeef"},
		{name: "only Linux and Xen notes", in: real[gnuNoteEnd:], wantErr: "no GNU build-id note"},
		{name: "empty", in: nil, wantErr: "no GNU build-id note"},
		{name: "type 3 from another owner", in: note("Xen\x00", 3, id), wantErr: "no GNU build-id note"},
		{name: "GNU note of another type", in: note("GNU\x00", 1, id), wantErr: "no GNU build-id note"},
		{name: "GNU name with a suffix", in: note("GNUX", 3, id), wantErr: "no GNU build-id note"},
		{name: "empty build-id", in: note("GNU\x00", 3, nil), wantErr: "note at offset 0: empty GNU build-id"},
		{name: "truncated header", in: real[:11], wantErr: "note at offset 0: truncated: 11 bytes left of a 12-byte header"},
		{name: "truncated build-id", in: real[:gnuNoteEnd-1], wantErr: "note at offset 0: truncated: name of 4 and description of 20 bytes, 23 bytes left"},
		{name: "truncated note before the build-id", in: append(real[gnuNoteEnd:gnuNoteEnd+20:gnuNoteEnd+20], real[:gnuNoteEnd]...), wantErr: "note at offset 24: truncated: name of 20 and description of 3 bytes, 20 bytes left"},
		{name: "truncated Linux note", in: real[gnuNoteEnd : gnuNoteEnd+20], wantErr: "note at offset 0: truncated: name of 6 and description of 4 bytes, 8 bytes left"},
		{name: "trailing bytes", in: append(bytes.Clone(real[gnuNoteEnd:]), 0, 0, 0, 0), wantErr: "note at offset 128: truncated: 4 bytes left of a 12-byte header"},
		{name: "huge namesz", in: header(0xffffffff, 20, 3), wantErr: "note at offset 0: truncated: name of 4294967295 and description of 20 bytes, 0 bytes left"},
		{name: "huge descsz", in: append(header(4, 0xffffffff, 3), "GNU\x00"...), wantErr: "note at offset 0: truncated: name of 4 and description of 4294967295 bytes, 4 bytes left"},
		{name: "huge both", in: header(0xffffffff, 0xffffffff, 3), wantErr: "note at offset 0: truncated: name of 4294967295 and description of 4294967295 bytes, 0 bytes left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BuildIDFromNotes(tt.in)
			if errString(err) != tt.wantErr || got != tt.want {
				t.Errorf("BuildIDFromNotes = %q, %v; want %q, %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestBuildIDFromNotesNoBuildIDIsSentinel(t *testing.T) {
	if _, err := BuildIDFromNotes(readNotes(t)[gnuNoteEnd:]); !errors.Is(err, ErrNoBuildID) {
		t.Errorf("err = %v, want ErrNoBuildID", err)
	}
}

func TestBuildIDFromNotesAligned8(t *testing.T) {
	// A .note.gnu.property note (8-aligned, as in 64-bit executables): a
	// 4-byte name, then a 12-byte description padded to 16.
	b := append(header(4, 12, 5), "GNU\x00"...)
	b = append(b, make([]byte, 16)...)
	b = append(b, header(4, 4, 3)...)
	b = append(b, "GNU\x00\x01\x02\x03\x04"...)
	got, err := buildIDFromNotes(b, 8, binary.LittleEndian)
	if err != nil || got != "01020304" {
		t.Errorf("buildIDFromNotes(align 8) = %q, %v; want 01020304", got, err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// FuzzBuildIDFromNotes checks that no notes blob panics the parser, and
// that a build-id it returns is lowercase hex of bytes in the blob.
func FuzzBuildIDFromNotes(f *testing.F) {
	real := readNotes(f)
	f.Add(real)
	for _, n := range []int{0, 1, 11, 12, 15, 16, gnuNoteEnd - 1, gnuNoteEnd, gnuNoteEnd + 1, len(real) - 1} {
		f.Add(real[:n])
	}
	f.Add(real[gnuNoteEnd:])
	f.Add(header(0xffffffff, 20, 3))
	f.Add(append(header(4, 0xffffffff, 3), "GNU\x00"...))
	f.Add(append(header(0xfffffffd, 0, 3), "GNU\x00"...))
	f.Add(note("GNU\x00", 3, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := BuildIDFromNotes(b)
		if err != nil {
			if id != "" {
				t.Fatalf("build-id %q with error %v", id, err)
			}
			return
		}
		raw, herr := hex.DecodeString(id)
		if herr != nil || len(raw) == 0 || id != strings.ToLower(id) {
			t.Fatalf("build-id %q is not lowercase hex", id)
		}
		if !bytes.Contains(b, raw) {
			t.Fatalf("build-id %q is not in the input", id)
		}
	})
}

// buildELF compiles a tiny C program with ldflags and returns its path.
func buildELF(t *testing.T, ldflags ...string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("no gcc to build an ELF file:", err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "tiny.c")
	if err := os.WriteFile(src, []byte("int main(void) { return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "tiny")
	args := append([]string{"-o", out, src}, ldflags...)
	if b, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

// withoutSectionHeaders copies the ELF64 file at path with its section
// header table dropped from the ELF header (e_shoff, e_shnum, e_shstrndx),
// as some vmlinux-derived files are: only the program headers remain.
func withoutSectionHeaders(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 64 || b[4] != 2 || b[5] != 1 {
		t.Skip("not a little-endian ELF64 file")
	}
	binary.LittleEndian.PutUint64(b[0x28:], 0) // e_shoff
	binary.LittleEndian.PutUint16(b[0x3c:], 0) // e_shnum
	binary.LittleEndian.PutUint16(b[0x3e:], 0) // e_shstrndx
	out := path + ".noshdr"
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBuildIDFromELF(t *testing.T) {
	const fixed = "0123456789abcdef0123456789abcdef01234567"
	withID := buildELF(t, "-Wl,--build-id=0x"+fixed)
	withoutID := buildELF(t, "-Wl,--build-id=none")
	tests := []struct {
		name    string
		path    string
		want    string
		wantErr string
	}{
		{name: "note section", path: withID, want: fixed},
		{name: "note segment only", path: withoutSectionHeaders(t, withID), want: fixed},
		{name: "linked without build-id", path: withoutID, wantErr: withoutID + ": no GNU build-id note"},
		{name: "segments without build-id", path: withoutSectionHeaders(t, withoutID), wantErr: withoutID + ".noshdr: no GNU build-id note"},
		{name: "not ELF", path: realNotes, wantErr: realNotes + ": bad magic number '[4 0 0 0]' in record at byte 0x0"},
		{name: "missing", path: "testdata/vmlinux", wantErr: "open testdata/vmlinux: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BuildIDFromELF(tt.path)
			if errString(err) != tt.wantErr || got != tt.want {
				t.Errorf("BuildIDFromELF = %q, %v; want %q, %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestBuildIDFromELFMatchesReadelf(t *testing.T) {
	readelf, err := exec.LookPath("readelf")
	if err != nil {
		t.Skip("no readelf:", err)
	}
	path := buildELF(t, "-Wl,--build-id=sha1")
	out, err := exec.Command(readelf, "-n", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(out), "Build ID: ")
	if !ok {
		t.Fatalf("readelf -n prints no build-id:\n%s", out)
	}
	want, _, _ := strings.Cut(after, "\n")
	got, err := BuildIDFromELF(path)
	if err != nil || got != strings.TrimSpace(want) {
		t.Errorf("BuildIDFromELF = %q, %v; readelf -n says %q", got, err, want)
	}
}
