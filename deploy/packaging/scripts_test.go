//go:build integration

package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/syscheckd/syscheckd/deploy/testbed"
)

// The maintainer scripts run here against stand-ins for systemctl,
// deb-systemd-helper and deb-systemd-invoke that only log their arguments.
// Each script runs in a private mount namespace with an empty /run, plus
// /run/systemd/system when the case wants a running systemd, so both sides
// of the scripts' "is systemd the init?" test are exercised whatever this
// machine's own init is.

const stub = `#!/bin/sh
echo "${0##*/} $*" >>"$STUB_LOG"
if [ "${0##*/} $1 $2" = "deb-systemd-helper --quiet was-enabled" ]; then
	exit "${STUB_WAS_ENABLED_STATUS:-0}"
fi
exit 0
`

func TestMaintainerScripts(t *testing.T) {
	unshare := testbed.RequireTool(t, "unshare", "apt-get install util-linux")
	sh := testbed.RequireTool(t, "sh", "apt-get install dash")
	root := moduleRoot(t)

	tests := []struct {
		name      string
		script    string
		args      []string
		running   bool // systemd is the running init
		disabled  bool // the admin disabled the service before an upgrade
		wantCalls []string
	}{
		{
			name: "deb install in a chroot", script: "postinst.sh", args: []string{"configure", ""},
			wantCalls: []string{
				"deb-systemd-helper unmask syscheckd.service syscheckd.socket",
				"deb-systemd-helper --quiet was-enabled syscheckd.service",
				"deb-systemd-helper enable syscheckd.service",
			},
		},
		{
			name: "deb install", script: "postinst.sh", args: []string{"configure", ""}, running: true,
			wantCalls: []string{
				"deb-systemd-helper unmask syscheckd.service syscheckd.socket",
				"deb-systemd-helper --quiet was-enabled syscheckd.service",
				"deb-systemd-helper enable syscheckd.service",
				"systemctl --system daemon-reload",
				"deb-systemd-invoke start syscheckd.service",
			},
		},
		{
			name: "deb upgrade", script: "postinst.sh", args: []string{"configure", "0.1.0-1"}, running: true,
			wantCalls: []string{
				"deb-systemd-helper unmask syscheckd.service syscheckd.socket",
				"deb-systemd-helper --quiet was-enabled syscheckd.service",
				"deb-systemd-helper enable syscheckd.service",
				"systemctl --system daemon-reload",
				"deb-systemd-invoke restart syscheckd.service",
			},
		},
		{
			name: "deb upgrade keeps a disabled service disabled", script: "postinst.sh",
			args: []string{"configure", "0.1.0-1"}, running: true, disabled: true,
			wantCalls: []string{
				"deb-systemd-helper unmask syscheckd.service syscheckd.socket",
				"deb-systemd-helper --quiet was-enabled syscheckd.service",
				"deb-systemd-helper update-state syscheckd.service",
				"systemctl --system daemon-reload",
				// deb-systemd-invoke itself skips a disabled unit.
				"deb-systemd-invoke restart syscheckd.service",
			},
		},
		{
			name: "deb removal", script: "prerm.sh", args: []string{"remove"}, running: true,
			wantCalls: []string{"deb-systemd-invoke stop syscheckd.socket syscheckd.service"},
		},
		{name: "deb removal in a chroot", script: "prerm.sh", args: []string{"remove"}},
		{name: "deb upgrade leaves the daemon running", script: "prerm.sh", args: []string{"upgrade", "1.2.3-1"}, running: true},
		{
			name: "deb removed", script: "postrm.sh", args: []string{"remove"}, running: true,
			wantCalls: []string{
				"systemctl --system daemon-reload",
				"deb-systemd-helper mask syscheckd.service syscheckd.socket",
			},
		},
		{
			name: "deb purge", script: "postrm.sh", args: []string{"purge"},
			wantCalls: []string{
				"deb-systemd-helper purge syscheckd.service syscheckd.socket",
				"deb-systemd-helper unmask syscheckd.service syscheckd.socket",
			},
		},
		{name: "deb postrm upgrade", script: "postrm.sh", args: []string{"upgrade", "1.2.3-1"}, running: true},
		{
			name: "rpm install in a chroot", script: "rpm/post.sh", args: []string{"1"},
			wantCalls: []string{"systemctl --no-reload preset syscheckd.service"},
		},
		{
			// %systemd_post: the preset policy decides, nothing starts.
			name: "rpm install", script: "rpm/post.sh", args: []string{"1"}, running: true,
			wantCalls: []string{
				"systemctl --no-reload preset syscheckd.service",
				"systemctl daemon-reload",
			},
		},
		{
			// The admin's enable/disable choice stays; %postun restarts.
			name: "rpm upgrade", script: "rpm/post.sh", args: []string{"2"}, running: true,
			wantCalls: []string{"systemctl daemon-reload"},
		},
		{
			name: "rpm removal", script: "rpm/preun.sh", args: []string{"0"}, running: true,
			wantCalls: []string{"systemctl --no-reload disable --now syscheckd.service syscheckd.socket"},
		},
		{
			name: "rpm removal in a chroot", script: "rpm/preun.sh", args: []string{"0"},
			wantCalls: []string{"systemctl --no-reload disable --now syscheckd.service syscheckd.socket"},
		},
		{name: "rpm upgrade preun", script: "rpm/preun.sh", args: []string{"1"}, running: true},
		{
			name: "rpm removed", script: "rpm/postun.sh", args: []string{"0"}, running: true,
			wantCalls: []string{"systemctl daemon-reload"},
		},
		{
			// %systemd_postun_with_restart: try-restart starts nothing
			// that was stopped.
			name: "rpm upgraded", script: "rpm/postun.sh", args: []string{"1"}, running: true,
			wantCalls: []string{"systemctl daemon-reload", "systemctl try-restart syscheckd.service"},
		},
		{name: "rpm removed in a chroot", script: "rpm/postun.sh", args: []string{"0"}},
		{name: "rpm upgraded in a chroot", script: "rpm/postun.sh", args: []string{"1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "bin")
			if err := os.Mkdir(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"systemctl", "deb-systemd-helper", "deb-systemd-invoke"} {
				if err := os.WriteFile(filepath.Join(bin, name), []byte(stub), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			log := filepath.Join(dir, "calls")
			if err := os.WriteFile(log, nil, 0o644); err != nil {
				t.Fatal(err)
			}

			setup := "mount -t tmpfs tmpfs /run"
			if tc.running {
				setup += " && mkdir -p /run/systemd/system"
			}
			script := filepath.Join(root, "deploy/packaging/scripts", tc.script)
			// The private namespace hides the tmpfs from the rest of the
			// machine and is gone when the script exits.
			args := append([]string{"--mount", "--propagation", "private", sh, "-ec",
				setup + ` && exec "$0" "$@"`, sh, script}, tc.args...)
			cmd := exec.CommandContext(t.Context(), unshare, args...)
			status := "0"
			if tc.disabled {
				status = "1"
			}
			cmd.Env = append(os.Environ(),
				"PATH="+bin+":/usr/sbin:/usr/bin:/sbin:/bin",
				"STUB_LOG="+log,
				"STUB_WAS_ENABLED_STATUS="+status)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s %q: %v\n%s", tc.script, tc.args, err, out)
			} else if len(out) > 0 {
				t.Errorf("%s %q printed:\n%s", tc.script, tc.args, out)
			}

			data, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for line := range strings.Lines(string(data)) {
				got = append(got, strings.TrimSpace(line))
			}
			if !slices.Equal(got, tc.wantCalls) {
				t.Errorf("%s %q calls:\n got %q\nwant %q", tc.script, tc.args, got, tc.wantCalls)
			}
		})
	}
}
