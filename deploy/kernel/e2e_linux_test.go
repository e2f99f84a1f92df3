//go:build e2e

package kernel

import (
	"os/exec"
	"syscall"
)

// procAttr puts boot.sh and QEMU in their own process group, so that the
// test can stop both.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func killGroup(cmd *exec.Cmd) { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
