package kernel

import (
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNoBuildID means the notes hold no GNU build-id note: a kernel or ELF
// file linked without --build-id.
var ErrNoBuildID = errors.New("no GNU build-id note")

// ntGNUBuildID is the type of the GNU build-id note (NT_GNU_BUILD_ID).
const ntGNUBuildID = 3

// noteHeader is namesz, descsz and type: three 32-bit words.
const noteHeader = 12

// maxNoteSegment bounds a PT_NOTE segment read from an ELF file; a vmlinux's
// notes take a few hundred bytes.
const maxNoteSegment = 1 << 20

// BuildIDFromNotes returns the lowercase hex of the GNU build-id note
// (type 3, name "GNU") in b, a sequence of little-endian ELF notes with
// names and descriptions padded to 4 bytes, as /sys/kernel/notes holds
// them on little-endian machines (x86_64, arm64). Other notes, such as
// "Xen" and "Linux", are skipped.
func BuildIDFromNotes(b []byte) (string, error) {
	return buildIDFromNotes(b, 4, binary.LittleEndian)
}

// buildIDFromNotes walks the notes of b, in which each note starts, and
// its description starts, on a multiple of align (4 or 8) from b's start.
func buildIDFromNotes(b []byte, align uint64, order binary.ByteOrder) (string, error) {
	n := uint64(len(b))
	// uint64 sums of 32-bit sizes and offsets within b cannot overflow.
	for off := uint64(0); off < n; {
		if n-off < noteHeader {
			return "", fmt.Errorf("note at offset %d: truncated: %d bytes left of a %d-byte header", off, n-off, noteHeader)
		}
		namesz := uint64(order.Uint32(b[off:]))
		descsz := uint64(order.Uint32(b[off+4:]))
		typ := order.Uint32(b[off+8:])
		name := off + noteHeader
		desc := alignUp(name+namesz, align)
		end := desc + descsz
		if end > n {
			return "", fmt.Errorf("note at offset %d: truncated: name of %d and description of %d bytes, %d bytes left", off, namesz, descsz, n-name)
		}
		if typ == ntGNUBuildID && isGNU(b[name:name+namesz]) {
			if descsz == 0 {
				return "", fmt.Errorf("note at offset %d: empty GNU build-id", off)
			}
			return hex.EncodeToString(b[desc:end]), nil
		}
		// The last note's padding may be missing: the loop ends either way.
		off = alignUp(end, align)
	}
	return "", ErrNoBuildID
}

// isGNU reports whether a note's name is "GNU", with or without its NUL.
func isGNU(name []byte) bool {
	return string(name) == "GNU\x00" || string(name) == "GNU"
}

func alignUp(x, align uint64) uint64 {
	return (x + align - 1) &^ (align - 1)
}

// noteAlign is the alignment of a note section or segment: 8 for the
// 8-aligned notes of 64-bit files (.note.gnu.property), else 4, as readelf
// treats them.
func noteAlign(a uint64) uint64 {
	if a == 8 {
		return 8
	}
	return 4
}

// BuildIDFromELF returns the lowercase hex of the GNU build-id note of the
// ELF file at path, such as a vmlinux: from its note sections or, in a file
// without section headers, its note segments.
func BuildIDFromELF(path string) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer file.Close() //nolint:errcheck // read-only: closing cannot lose data
	f, err := elf.NewFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}

	var errs []error
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE {
			continue
		}
		b, err := s.Data()
		if err == nil {
			var id string
			if id, err = buildIDFromNotes(b, noteAlign(s.Addralign), f.ByteOrder); err == nil {
				return id, nil
			}
		}
		if !errors.Is(err, ErrNoBuildID) {
			errs = append(errs, fmt.Errorf("section %s: %w", s.Name, err))
		}
	}
	for i, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		if p.Filesz > maxNoteSegment {
			errs = append(errs, fmt.Errorf("note segment %d: %d bytes, over %d", i, p.Filesz, maxNoteSegment))
			continue
		}
		b, err := io.ReadAll(p.Open())
		if err == nil {
			var id string
			if id, err = buildIDFromNotes(b, noteAlign(p.Align), f.ByteOrder); err == nil {
				return id, nil
			}
		}
		if !errors.Is(err, ErrNoBuildID) {
			errs = append(errs, fmt.Errorf("note segment %d: %w", i, err))
		}
	}
	if len(errs) > 0 {
		// The first problem is enough to see what is wrong with the file.
		return "", fmt.Errorf("%s: %w", path, errs[0])
	}
	return "", fmt.Errorf("%s: %w", path, ErrNoBuildID)
}
