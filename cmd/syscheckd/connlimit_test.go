package main

import "testing"

func TestConnectionLimitLeavesDescriptorsForTheProbe(t *testing.T) {
	tests := []struct {
		nofile uint64
		want   int
	}{
		{nofile: 1024, want: 832}, // systemd's default soft limit, which the unit's seccomp filter keeps
		{nofile: 20000, want: maxConnections},
		{nofile: 1 << 20, want: maxConnections},
		{nofile: 250, want: 58},
		{nofile: 150, want: minConnections},
		{nofile: 0, want: minConnections},
	}
	for _, tt := range tests {
		if got := connectionLimit(tt.nofile); got != tt.want {
			t.Errorf("connectionLimit(%d) = %d, want %d", tt.nofile, got, tt.want)
		}
	}
}
