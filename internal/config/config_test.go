package config

import (
	"strings"
	"testing"
)

type sample struct {
	Name  string `yaml:"name"`
	Items []struct {
		Severity string `yaml:"severity"`
	} `yaml:"items"`
}

func TestParseAndDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data, wantErr string
	}{
		{"ok", "apiVersion: purser.dev/v1alpha1\nkind: Config\naudit:\n  name: x\n", ""},
		{"wrong version", "apiVersion: v9\nkind: Config\n", "purser.yaml:1: apiVersion: got \"v9\""},
		{"wrong kind", "apiVersion: purser.dev/v1alpha1\nkind: Nope\n", "purser.yaml:2: kind"},
		{"unknown section", "apiVersion: purser.dev/v1alpha1\nkind: Config\naudits: {}\n", "purser.yaml:3: audits: unknown section"},
		{"invalid yaml", "apiVersion: purser.dev/v1alpha1\nkind: Config\naudit: [\n", "purser.yaml:"},
		{"unknown field", "apiVersion: purser.dev/v1alpha1\nkind: Config\naudit:\n  name: x\n  items:\n  - severity: high\n    sevrity: x\n", "purser.yaml:7: audit.items[0].sevrity: unknown field"},
		{"type error", "apiVersion: purser.dev/v1alpha1\nkind: Config\naudit:\n  items: 5\n", "purser.yaml:4:"},
		{"empty", "", "empty config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse("purser.yaml", []byte(tt.data))
			if err == nil {
				var s sample
				err = f.Decode("audit", &s)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestCheckGivesLine(t *testing.T) {
	t.Parallel()
	f, err := Parse("p.yaml", []byte("apiVersion: purser.dev/v1alpha1\nkind: Config\naudit:\n  items:\n  - severity: ok\n  - severity: bad\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := f.Check("audit", &FieldError{Path: "items[1].severity", Msg: "unknown severity"}).Error()
	if want := "p.yaml:6: audit.items[1].severity: unknown severity"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
