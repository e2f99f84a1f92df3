package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 12: Load must refuse, at once and in one line, whatever is not a
// small regular file: a FIFO blocked os.ReadFile forever and /dev/zero grew
// without bound.
func TestLoadRefusesWhatIsNotASmallRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "m.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: the limit plus one byte, no disk used.
	if err := f.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tests := []struct {
		name, path, want string
	}{
		{"FIFO", fifo, fifo + " is a FIFO, not a regular file"},
		{"character device", "/dev/null", "/dev/null is a character device, not a regular file"},
		{"endless device", "/dev/zero", "/dev/zero is a character device, not a regular file"},
		{"directory", dir, dir + " is a directory, not a regular file"},
		{"over the limit", big, big + " is 1048577 bytes, over the limit of 1 MiB"},
		{"missing", filepath.Join(dir, "none.yml"), "open " + filepath.Join(dir, "none.yml") + ": no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan string, 1)
			go func() {
				_, err := Load(tt.path, "x86_64")
				got := "<nil>"
				if err != nil {
					got = err.Error()
				}
				done <- got
			}()
			select {
			case got := <-done:
				if got != tt.want {
					t.Errorf("Load(%s):\n got %.300s\nwant %s", tt.path, got, tt.want)
				}
				if strings.ContainsAny(got, "\n\r") {
					t.Errorf("error has more than one line: %q", got)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("Load(%s) has not returned after 5s", tt.path)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	small := write("small.yml", "0123456789")
	fifo := filepath.Join(dir, "f")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	toSmall := filepath.Join(dir, "tosmall")
	if err := os.Symlink(small, toSmall); err != nil {
		t.Fatal(err)
	}
	newline := filepath.Join(dir, "a\nb")
	tests := []struct {
		name  string
		path  string
		limit int64
		want  string // the contents, or the error
		is    error
	}{
		{"at the limit", small, 10, "0123456789", nil},
		{"a symbolic link to a file", toSmall, 10, "0123456789", nil},
		{"empty", write("empty.yml", ""), 0, "", nil},
		{"over the limit", small, 9, small + " is 10 bytes, over the limit of 9 bytes", ErrTooLarge},
		{"/proc reports size 0", "/proc/self/status", 16, "/proc/self/status is over the limit of 16 bytes", ErrTooLarge},
		{"FIFO", fifo, 10, fifo + " is a FIFO, not a regular file", ErrNotRegular},
		{"a symbolic link to a FIFO", link, 10, link + " is a FIFO, not a regular file", ErrNotRegular},
		{"directory", dir, 1 << 20, dir + " is a directory, not a regular file", ErrNotRegular},
		{"device", "/dev/zero", 1 << 20, "/dev/zero is a character device, not a regular file", ErrNotRegular},
		{"missing", filepath.Join(dir, "none"), 10, "open " + filepath.Join(dir, "none") + ": no such file or directory", fs.ErrNotExist},
		{"a newline in the path", newline, 10, "open " + dir + `/a\nb: no such file or directory`, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := ReadFile(tt.path, tt.limit)
			got := string(data)
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("ReadFile(%q, %d):\n got %q\nwant %q", tt.path, tt.limit, got, tt.want)
			}
			if (err != nil) != (tt.is != nil) || tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("ReadFile(%q, %d) = %v, want an error that is %v", tt.path, tt.limit, err, tt.is)
			}
		})
	}
}
