// Package version says which build of purser is running. A release sets
// the version with the linker:
//
//	go build -ldflags "-X github.com/purserhq/purser/internal/version.Version=v1.2.3"
//
// A build without it (`go install ./cmd/purser` from a clone, `go run`)
// still tells the truth: the module version and VCS revision that the go
// command stamps into every binary it builds inside a repository.
package version

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is written by the linker only; nothing assigns it at run time.
var Version = unset

// unset is Version's value when no -ldflags gave it one. The Makefile
// also falls back to it when git cannot describe the tree, which means
// the same thing: the build information is the better source.
const unset = "dev"

// revisionLen is how much of a commit hash is shown: the length Go's own
// pseudo-versions use, unique in any repository of sane size.
const revisionLen = 12

// Info describes one build.
type Info struct {
	// Version is the linker's Version when set, else the main module's
	// version as the go command stamped it: "(devel)" for `go run` and
	// older toolchains, a tag or a pseudo-version (with "+dirty") for a
	// build from a Git work tree since Go 1.24.
	Version string
	// Revision is the VCS commit the binary was built from, "" when the
	// build was not stamped (-buildvcs=false, no repository).
	Revision string
	// Modified is set when the work tree had uncommitted changes.
	Modified bool
	// GoVersion is the toolchain that built the binary.
	GoVersion string
	// Platform is GOOS/GOARCH.
	Platform string
}

// Get describes the running binary.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return FromBuildInfo(Version, bi, runtime.GOOS+"/"+runtime.GOARCH)
}

// FromBuildInfo describes a build from the linker's Version and the build
// information (nil when the binary has none). It is Get without the
// process: tests give it whatever build they need.
func FromBuildInfo(linked string, bi *debug.BuildInfo, platform string) Info {
	info := Info{Version: linked, GoVersion: runtime.Version(), Platform: platform}
	if bi == nil {
		return info
	}
	if linked == unset && bi.Main.Version != "" {
		info.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the one line `purser version` prints after the program name,
// for example "(devel) rev 1a2b3c4d5e6f (modified), go1.26.0 linux/amd64".
func (i Info) String() string {
	var b strings.Builder
	b.WriteString(i.Version)
	// A pseudo-version (v0.0.0-20261130010300-1a2b3c4d5e6f+dirty) already
	// names the commit and the changes; saying so twice reads as two facts.
	if rev := i.Revision[:min(len(i.Revision), revisionLen)]; rev != "" && !strings.Contains(i.Version, rev) {
		b.WriteString(" rev ")
		b.WriteString(rev)
	}
	if i.Modified && !strings.HasSuffix(i.Version, "+dirty") {
		b.WriteString(" (modified)")
	}
	b.WriteString(", ")
	b.WriteString(i.GoVersion)
	b.WriteString(" ")
	b.WriteString(i.Platform)
	return b.String()
}
