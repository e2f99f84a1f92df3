package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/syscheckd/syscheckd/cmd/syscheckd/internal/config"
	"github.com/syscheckd/syscheckd/probe/kernel"
)

// kernelCheck holds the running kernel's identity, read once (it cannot
// change without a reboot), and the manifest of builds it should be.
type kernelCheck struct {
	id   kernel.Identity
	path string

	mu       sync.Mutex
	manifest *config.Manifest
}

// newKernelCheck identifies the running kernel and loads the manifest at
// path, if any. What the kernel does not tell is logged, not fatal; a bad
// manifest is.
func newKernelCheck(path string, logger *slog.Logger) (*kernelCheck, error) {
	id, problems := kernel.ReadIdentity("/")
	for _, err := range problems {
		// Most kernels lack one fact or another (lockdown, config.gz).
		logger.Debug("kernel identity incomplete", "err", err)
	}
	logger.Info("kernel identity", "release", id.Release, "machine", id.Machine, "build_id", id.BuildID,
		"config_sha256", id.ConfigDigest, "lockdown", id.Lockdown)
	if id.BuildID == "" {
		logger.Warn("the kernel does not tell its build-id: it cannot be matched with a manifest", "err", errors.Join(problems...))
	}
	k := &kernelCheck{id: id, path: path}
	if path == "" {
		return k, nil
	}
	m, err := config.LoadManifest(path)
	if err != nil {
		return nil, fmt.Errorf("--kernel.manifest: %w", err)
	}
	k.manifest = &m
	return k, nil
}

// reload reads the manifest again; one with an error leaves the previous
// one in force.
func (k *kernelCheck) reload() error {
	if k.path == "" {
		return nil
	}
	m, err := config.LoadManifest(k.path)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.manifest = &m
	return nil
}

// expected matches the running build against the manifest.
func (k *kernelCheck) expected() (name string, matched, configured bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.manifest == nil {
		return "", false, false
	}
	if k.id.BuildID == "" {
		return "", false, true
	}
	e, ok := k.manifest.Match(k.id.BuildID)
	return e.Name, ok, true
}

// verdict says in words what expected says.
func (k *kernelCheck) verdict() string {
	switch name, matched, configured := k.expected(); {
	case !configured:
		return "no manifest"
	case matched:
		return "expected as " + name
	case k.id.BuildID == "":
		return "unknown build: the kernel does not tell its build-id"
	default:
		return "not in the manifest"
	}
}

// printEntry is `syscheckd --kernel.print-entry`: the manifest entry of a
// vmlinux, or of the running kernel, for kernel CI to append.
func printEntry(opts options, stdout io.Writer) error {
	var e config.ManifestEntry
	if opts.vmlinux != "" {
		id, err := kernel.BuildIDFromELF(opts.vmlinux)
		if err != nil {
			return fmt.Errorf("--kernel.vmlinux: %w", err)
		}
		e = config.ManifestEntry{BuildID: id, Release: opts.release}
	} else {
		id, problems := kernel.ReadIdentity("/")
		if id.BuildID == "" {
			return fmt.Errorf("the running kernel does not tell its build-id: %w", errors.Join(problems...))
		}
		e = config.ManifestEntry{BuildID: id.BuildID, Release: id.Release}
		if opts.release != "" {
			e.Release = opts.release
		}
	}
	e.Name = opts.entryName
	if e.Name == "" {
		e.Name = e.Release
	}
	if e.Name == "" {
		return errors.New("--kernel.entry-name: needed when the release is not known (give --kernel.release or a name)")
	}
	if err := e.Validate(); err != nil {
		return fmt.Errorf("the entry would not load: %w", err)
	}
	_, err := fmt.Fprint(stdout, e.YAML())
	return err
}
