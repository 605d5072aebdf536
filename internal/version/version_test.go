package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	t.Parallel()
	const rev = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
	stamped := func(mainVersion string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/purserhq/purser", Version: mainVersion}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	tests := []struct {
		name   string
		linked string
		bi     *debug.BuildInfo
		want   string
	}{
		{"go run from a modified clone", "dev", stamped("(devel)", "vcs", "git", "vcs.revision", rev, "vcs.modified", "true"),
			"(devel) rev 1a2b3c4d5e6f (modified), go1.26.0 linux/amd64"},
		{"go install from a clean clone", "dev", stamped("v0.0.0-20261130010300-1a2b3c4d5e6f", "vcs.revision", rev, "vcs.modified", "false"),
			"v0.0.0-20261130010300-1a2b3c4d5e6f, go1.26.0 linux/amd64"},
		{"go install from a modified clone", "dev", stamped("v0.0.0-20261130010300-1a2b3c4d5e6f+dirty", "vcs.revision", rev, "vcs.modified", "true"),
			"v0.0.0-20261130010300-1a2b3c4d5e6f+dirty, go1.26.0 linux/amd64"},
		{"go install from a tagged clone", "dev", stamped("v1.2.3", "vcs.revision", rev, "vcs.modified", "false"),
			"v1.2.3 rev 1a2b3c4d5e6f, go1.26.0 linux/amd64"},
		{"make build: git describe's version and the stamp", "1a2b3c4-dirty", stamped("(devel)", "vcs.revision", rev, "vcs.modified", "true"),
			"1a2b3c4-dirty rev 1a2b3c4d5e6f (modified), go1.26.0 linux/amd64"},
		{"release: the linker's version wins", "v1.2.3", stamped("(devel)", "vcs.revision", rev, "vcs.modified", "false"),
			"v1.2.3 rev 1a2b3c4d5e6f, go1.26.0 linux/amd64"},
		{"no VCS stamp", "dev", stamped("(devel)", "-buildvcs", "false"),
			"(devel), go1.26.0 linux/amd64"},
		{"short revision kept whole", "dev", stamped("(devel)", "vcs.revision", "abc", "vcs.modified", "true"),
			"(devel) rev abc (modified), go1.26.0 linux/amd64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := FromBuildInfo(tt.linked, tt.bi, "linux/amd64").String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestFromBuildInfoWithoutBuildInfo(t *testing.T) {
	t.Parallel()
	got := FromBuildInfo("v1.2.3", nil, "darwin/arm64")
	if got.Version != "v1.2.3" || got.Revision != "" || got.Modified {
		t.Fatalf("got %+v", got)
	}
	if s := got.String(); !strings.HasPrefix(s, "v1.2.3, go") || !strings.HasSuffix(s, " darwin/arm64") {
		t.Fatalf("got %q", s)
	}
}

// A test binary carries build information, so Get never falls back to
// nothing: its version is at least the linker's default.
func TestGet(t *testing.T) {
	t.Parallel()
	if got := Get(); got.Version == "" || got.GoVersion == "" || got.Platform == "" {
		t.Fatalf("got %+v", got)
	}
}
