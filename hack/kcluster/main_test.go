package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseUpstream(t *testing.T) {
	gomod := []byte(`// generated
module k8s.io/kubernetes

go 1.24.0

godebug default=go1.24

require (
	github.com/google/go-cmp v0.7.0
	k8s.io/api v0.0.0
)

replace k8s.io/single => ./staging/src/k8s.io/single

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/apimachinery v0.0.0 => ./staging/src/k8s.io/apimachinery // pinned
	github.com/some/fork => github.com/other/fork v1.2.3
)
`)
	goVersion, staging, err := parseUpstream(gomod)
	if err != nil {
		t.Fatal(err)
	}
	if goVersion != "1.24.0" {
		t.Errorf("go directive %q, want 1.24.0", goVersion)
	}
	if want := []string{"k8s.io/single", "k8s.io/api", "k8s.io/apimachinery"}; !slices.Equal(staging, want) {
		t.Errorf("staging modules %q, want %q", staging, want)
	}

	if _, _, err := parseUpstream([]byte("module x\n\ngo 1.24.0\n")); err == nil {
		t.Error("a go.mod without staging replaces was accepted")
	}
}

func TestReleaseFlags(t *testing.T) {
	tests := []struct {
		release, ldflags, staging string
		ok                        bool
	}{
		{"v1.34.4", "-s -w -X k8s.io/component-base/version.gitVersion=v1.34.4 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34 -X k8s.io/component-base/version.gitTreeState=clean", "v0.34.4", true},
		{"v1.35.0-rc.1", "-s -w -X k8s.io/component-base/version.gitVersion=v1.35.0-rc.1 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=35 -X k8s.io/component-base/version.gitTreeState=clean", "v0.35.0-rc.1", true},
		{"1.34.4", "", "", false},
		{"v2.0.0", "", "", false},
		{"v1.34", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.release, func(t *testing.T) {
			flags, err := ldflags(tt.release)
			if (err == nil) != tt.ok || flags != tt.ldflags {
				t.Errorf("ldflags(%q) = %q, %v; want %q", tt.release, flags, err, tt.ldflags)
			}
			staging, err := stagingVersion(tt.release)
			if (err == nil) != tt.ok || staging != tt.staging {
				t.Errorf("stagingVersion(%q) = %q, %v; want %q", tt.release, staging, err, tt.staging)
			}
		})
	}
}

func TestRequiredVersion(t *testing.T) {
	tests := []struct {
		name, gomod, want string
	}{
		{"single line", "module m\n\nrequire k8s.io/kubernetes v1.34.4\n", "v1.34.4"},
		{"block", "module m\n\nrequire (\n\tfoo v1.0.0\n\tk8s.io/kubernetes v1.33.1 // indirect\n)\n", "v1.33.1"},
		{"absent", "module m\n\nrequire foo v1.0.0\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "go.mod")
			if err := os.WriteFile(path, []byte(tt.gomod), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := requiredVersion(path, kubernetesPath)
			if got != tt.want || (err == nil) != (tt.want != "") {
				t.Errorf("requiredVersion = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestPinnedModFile checks that k8s/go.mod is what pin writes before go
// mod tidy adds the indirect requirements: its header, require and
// replace lines agree with each other.
func TestPinnedModFile(t *testing.T) {
	release, err := requiredVersion(filepath.Join("k8s", "go.mod"), kubernetesPath)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("k8s", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	staging, err := stagingVersion(release)
	if err != nil {
		t.Fatal(err)
	}
	header := pinHeader + "\n\nmodule " + k8sModule + "\n"
	if string(data[:len(header)]) != header {
		t.Errorf("k8s/go.mod does not start with %q", header)
	}
	if !slices.Contains(strings.Split(string(data), "\n"), "\tk8s.io/api => k8s.io/api "+staging) {
		t.Errorf("k8s/go.mod does not replace k8s.io/api by %s", staging)
	}
}
