package yamldoc

import (
	"strings"
	"testing"
)

type item struct {
	Severity string `yaml:"severity"`
}

type section struct {
	Name  string          `yaml:"name"`
	Items []item          `yaml:"items"`
	ByKey map[string]item `yaml:"byKey"`
}

type sample struct {
	APIVersion string  `yaml:"apiVersion"`
	Kind       string  `yaml:"kind"`
	Audit      section `yaml:"audit"`
}

const head = "apiVersion: test/v1\nkind: Sample\n"

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data, wantErr string
	}{
		{"ok", head + "audit:\n  name: x\n", ""},
		{"wrong version", "apiVersion: v9\nkind: Sample\n", `f.yaml:1: apiVersion: got "v9", expected "test/v1"`},
		{"missing kind", "apiVersion: test/v1\n", `f.yaml:1: kind: missing; expected "Sample"`},
		{"wrong kind", "apiVersion: test/v1\nkind: Nope\n", `f.yaml:2: kind: got "Nope"`},
		{"unknown section", head + "audits: {}\n", `f.yaml:3: audits: unknown field; did you mean "audit"?`},
		{"unknown far", head + "zzzzzzzz: {}\n", `f.yaml:3: zzzzzzzz: unknown field; expected one of apiVersion, audit, kind`},
		{"invalid yaml", head + "audit: [\n", "f.yaml:"},
		{"unknown nested", head + "audit:\n  name: x\n  items:\n  - severity: high\n    sevrity: x\n",
			`f.yaml:7: audit.items[0].sevrity: unknown field; did you mean "severity"?`},
		{"unknown in map value", head + "audit:\n  byKey:\n    a: {severity: x, colour: red}\n",
			`f.yaml:5: audit.byKey.a.colour: unknown field; expected one of severity`},
		{"type error", head + "audit:\n  items: 5\n", "f.yaml:4: audit.items: got a number `5`, expected a list"},
		{"duplicate key", head + "audit:\n  name: x\n  name: y\n", `f.yaml:5: audit.name: mapping key "name" already defined at line 4`},
		{"two documents", head + "---\n" + head, "f.yaml:3: more than one document"},
		{"second document after an end marker", head + "...\n---\nkind: Sample\n", "f.yaml:4: more than one document"},
		{"second document holding null", head + "--- ~\n", "f.yaml:3: more than one document"},
		{"trailing end marker and separator", head + "...\n---\n", ""},
		{"trailing separator", head + "---\n", ""},
		{"trailing separator and comment", head + "---\n# comment\n", ""},
		{"trailing empty documents", head + "---\n---\n# a\n...\n", ""},
		{"empty", "", "f.yaml: empty document: expected apiVersion: test/v1 and kind: Sample"},
		{"not a mapping", "- a\n", "f.yaml:1: expected a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s sample
			_, err := Decode("f.yaml", []byte(tt.data), "test/v1", "Sample", &s)
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
	var s sample
	d, err := Decode("p.yaml", []byte(head+"audit:\n  items:\n  - severity: ok\n  - severity: bad\n"), "test/v1", "Sample", &s)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		prefix string
		err    error
		want   string
	}{
		{"audit", &FieldError{Path: "items[1].severity", Msg: "unknown severity"}, "p.yaml:6: audit.items[1].severity: unknown severity"},
		{"audit", &FieldError{Path: "items[7].severity", Msg: "x"}, "p.yaml:4: audit.items[7].severity: x"},
		{"", &FieldError{Path: "audit.nothing", Msg: "x"}, "p.yaml:3: audit.nothing: x"},
		{"audit", errString("plain"), "p.yaml:3: audit: plain"},
	}
	for _, tt := range tests {
		if got := d.Check(tt.prefix, tt.err).Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	if New("built").Check("x", Fieldf("y", "bad %d", 1)).Error() != "built: x.y: bad 1" {
		t.Errorf("a document without a tree should name the file only")
	}
}

type errString string

func (e errString) Error() string { return string(e) }
