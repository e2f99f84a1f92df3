package main

import (
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/syscheckd/syscheckd/probe"
)

func TestSystemdReloadNotifications(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	read := func() string {
		t.Helper()
		buf := make([]byte, 4096)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	sd := newSystemd(slog.New(slog.DiscardHandler))

	// Before the first probe, a reload must not claim readiness.
	sd.reloading()
	if got := read(); !regexp.MustCompile(`^RELOADING=1\nMONOTONIC_USEC=[1-9][0-9]*$`).MatchString(got) {
		t.Errorf("reloading sent %q", got)
	}
	sd.reloaded("configuration reloaded")
	if got := read(); got != "STATUS=configuration reloaded" {
		t.Errorf("reloaded before the first probe sent %q", got)
	}

	sd.probed(probe.Result{Probe: "a", Class: probe.Absent, Reason: "r", Start: time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)})
	if got := read(); got != "READY=1\nSTATUS=a: absent: r (10:00:00)" {
		t.Errorf("first probe sent %q", got)
	}
	sd.reloading()
	read()
	sd.reloaded("reload failed")
	if got := read(); got != "READY=1\nSTATUS=reload failed" {
		t.Errorf("reloaded after the first probe sent %q", got)
	}

	// Text from a file or the kernel must not add variables: systemd would
	// act on WATCHDOG=trigger and MAINPID=1.
	sd.reloaded("reload failed: field a\nWATCHDOG=trigger\nMAINPID=1\nb")
	if got := read(); got != `READY=1`+"\n"+`STATUS=reload failed: field a\nWATCHDOG=trigger\nMAINPID=1\nb` {
		t.Errorf("a reload error with line breaks sent %q", got)
	}
	sd.probed(probe.Result{Probe: "a", Class: probe.KmsgMissing, Reason: "no record matched x\nWATCHDOG=trigger", Start: time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)})
	if got := read(); got != `STATUS=a: kmsg_missing: no record matched x\nWATCHDOG=trigger (10:00:00)` {
		t.Errorf("a probe reason with a line break sent %q", got)
	}
}
