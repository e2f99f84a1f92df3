package kernel

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestReadHealth(t *testing.T) {
	tests := []struct {
		name     string
		root     string
		want     Health
		wantErrs []string
	}{
		{
			name: "every file",
			root: "testdata/root",
			want: Health{Tainted: 12928, TaintedPresent: true, OopsCount: 1, OopsCountPresent: true, WarnCount: 2, WarnCountPresent: true},
		},
		{
			name: "kernel without oops_count and warn_count",
			root: "testdata/old",
			want: Health{TaintedPresent: true},
			wantErrs: []string{
				"open testdata/old/sys/kernel/oops_count: no such file or directory",
				"open testdata/old/sys/kernel/warn_count: no such file or directory",
			},
		},
		{
			name: "garbled files",
			root: "testdata/garbled",
			wantErrs: []string{
				`testdata/garbled/proc/sys/kernel/tainted: strconv.ParseUint: parsing "none": invalid syntax`,
				`testdata/garbled/sys/kernel/oops_count: strconv.ParseUint: parsing "": invalid syntax`,
				`testdata/garbled/sys/kernel/warn_count: strconv.ParseUint: parsing "-1": invalid syntax`,
			},
		},
		{
			name: "no files",
			root: "testdata/missing",
			wantErrs: []string{
				"open testdata/missing/proc/sys/kernel/tainted: no such file or directory",
				"open testdata/missing/sys/kernel/oops_count: no such file or directory",
				"open testdata/missing/sys/kernel/warn_count: no such file or directory",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ReadHealth(tt.root)
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Health{}, "Errs")); diff != "" {
				t.Errorf("health (-want +got):\n%s", diff)
			}
			var gotErrs []string
			for _, err := range got.Errs {
				gotErrs = append(gotErrs, err.Error())
			}
			if diff := cmp.Diff(tt.wantErrs, gotErrs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
	for _, err := range ReadHealth("testdata/missing").Errs {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v: not fs.ErrNotExist", err)
		}
	}
}

func TestTaintFlags(t *testing.T) {
	tests := []struct {
		name string
		mask uint64
		want []string
	}{
		{name: "untainted", mask: 0, want: nil},
		{name: "proprietary module", mask: 1, want: []string{"P"}},
		{name: "oops and warning after an out-of-tree unsigned module", mask: 12928, want: []string{"D", "W", "O", "E"}},
		{name: "livepatched", mask: 1 << 15, want: []string{"K"}},
		{name: "every known bit", mask: 1<<20 - 1, want: []string{"P", "F", "S", "R", "M", "B", "U", "D", "A", "W", "C", "I", "O", "E", "L", "K", "X", "T", "N", "J"}},
		{name: "bits newer than the list", mask: 1<<20 | 1<<63 | 1<<9, want: []string{"W", "bit20", "bit63"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, TaintFlags(tt.mask)); diff != "" {
				t.Errorf("TaintFlags(%d) (-want +got):\n%s", tt.mask, diff)
			}
		})
	}
}

func TestTaintBits(t *testing.T) {
	bits := TaintBits()
	if len(bits) != 20 {
		t.Errorf("%d taint bits, want 20 (Linux 6.15's TAINT_FLAGS_COUNT)", len(bits))
	}
	letters := map[string]bool{"G": true} // bit 0's letter when clear
	for i, b := range bits {
		if b.Bit != uint(i) {
			t.Errorf("bits[%d].Bit = %d", i, b.Bit)
		}
		if len(b.Letter) != 1 || letters[b.Letter] {
			t.Errorf("bit %d: letter %q is not one new letter", i, b.Letter)
		}
		letters[b.Letter] = true
		if b.Meaning == "" {
			t.Errorf("bit %d: no meaning", i)
		}
	}
	bits[0].Letter = "changed"
	if TaintBits()[0].Letter != "P" {
		t.Error("TaintBits returns the package's own table")
	}
}
