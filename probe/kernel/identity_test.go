package kernel

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// configDigest is the SHA-256 of testdata/root/proc/config.gz.
const configDigest = "1dd16c37d5bf0a60e1b60fc2df11580711bf221c6b4d19845ff9f8b4da8a960a"

var testUname = Identity{Release: "6.1.119-syscheck1", Version: "#1 SMP PREEMPT_DYNAMIC", Machine: "x86_64"}

func fakeUname(id Identity, err error) func() (Identity, error) {
	return func() (Identity, error) { return id, err }
}

func TestReadIdentity(t *testing.T) {
	tests := []struct {
		name     string
		root     string
		uname    func() (Identity, error)
		want     Identity
		wantErrs []string
	}{
		{
			name:  "every file",
			root:  "testdata/root",
			uname: fakeUname(testUname, nil),
			want: Identity{
				Release: "6.1.119-syscheck1", Version: "#1 SMP PREEMPT_DYNAMIC", Machine: "x86_64",
				BuildID: realBuildID, ConfigDigest: configDigest, Lockdown: "integrity",
			},
		},
		{
			name:  "no config.gz, no securityfs",
			root:  "testdata/old",
			uname: fakeUname(testUname, nil),
			want:  Identity{Release: "6.1.119-syscheck1", Version: "#1 SMP PREEMPT_DYNAMIC", Machine: "x86_64", BuildID: realBuildID},
			wantErrs: []string{
				"open testdata/old/proc/config.gz: no such file or directory",
				"open testdata/old/sys/kernel/security/lockdown: no such file or directory",
			},
		},
		{
			name:  "garbled files",
			root:  "testdata/garbled",
			uname: fakeUname(testUname, nil),
			want:  testUname,
			wantErrs: []string{
				"testdata/garbled/sys/kernel/notes: note at offset 0: truncated: name of 4 and description of 20 bytes, 18 bytes left",
				"read testdata/garbled/proc/config.gz: is a directory",
				`testdata/garbled/sys/kernel/security/lockdown: no [selected] mode in "none integrity confidentiality\n"`,
			},
		},
		{
			name:  "nothing readable",
			root:  "testdata/missing",
			uname: fakeUname(Identity{Release: "partial"}, errors.New("uname: operation not permitted")),
			wantErrs: []string{
				"uname: operation not permitted",
				"open testdata/missing/sys/kernel/notes: no such file or directory",
				"open testdata/missing/proc/config.gz: no such file or directory",
				"open testdata/missing/sys/kernel/security/lockdown: no such file or directory",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := readIdentity(tt.root, tt.uname)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("identity (-want +got):\n%s", diff)
			}
			var gotErrs []string
			for _, err := range errs {
				gotErrs = append(gotErrs, err.Error())
			}
			if diff := cmp.Diff(tt.wantErrs, gotErrs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseLockdown(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
		{name: "none", in: "[none] integrity confidentiality\n", want: "none"},
		{name: "integrity", in: "none [integrity] confidentiality\n", want: "integrity"},
		{name: "confidentiality", in: "none integrity [confidentiality]\n", want: "confidentiality"},
		{name: "no selection", in: "none integrity\n", wantErr: `no [selected] mode in "none integrity\n"`},
		{name: "empty brackets", in: "[] none\n", wantErr: `no [selected] mode in "[] none\n"`},
		{name: "empty", in: "", wantErr: `no [selected] mode in ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLockdown([]byte(tt.in))
			if got != tt.want || errString(err) != tt.wantErr {
				t.Errorf("parseLockdown(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestReadIdentityMissingFilesAreNotExist(t *testing.T) {
	_, errs := readIdentity("testdata/old", fakeUname(testUname, nil))
	for _, err := range errs {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v: not fs.ErrNotExist", err)
		}
	}
	if len(errs) == 0 {
		t.Error("no errors for testdata/old, which lacks config.gz and lockdown")
	}
}
