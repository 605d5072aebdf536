package yamldoc

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
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

// level decodes itself from text, as audit.Severity does.
type level int

func (l *level) UnmarshalText(b []byte) error { *l = level(len(b)); return nil }

// selfDecoding takes any YAML value.
type selfDecoding struct{ kind yaml.Kind }

func (s *selfDecoding) UnmarshalYAML(n *yaml.Node) error { s.kind = n.Kind; return nil }

type Common struct {
	Owner string `yaml:"owner"`
}

type roi struct {
	Days int `yaml:"days"`
}

type pool struct {
	Pool   string `yaml:"pool"`
	Target *int   `yaml:"targetUtilization"`
}

type tree struct {
	Kids []tree `yaml:"kids"`
}

type planSection struct {
	Common    `yaml:",inline"`
	Name      string         `yaml:"name"`
	Protected []string       `yaml:"protected"`
	ROI       roi            `yaml:"roi"`
	Pools     []pool         `yaml:"pools"`
	ByName    map[string]roi `yaml:"byName"`
	CPU       int64          `yaml:"cpu"`
	Percent   int            `yaml:"percent"`
	Limit     *int           `yaml:"limit"`
	Nums      []int          `yaml:"nums"`
	Free      uint           `yaml:"free"`
	Ratio     float64        `yaml:"ratio"`
	On        bool           `yaml:"on"`
	Wait      time.Duration  `yaml:"wait"`
	Level     level          `yaml:"level"`
	Raw       yaml.Node      `yaml:"raw"`
	Self      selfDecoding   `yaml:"self"`
	Any       any            `yaml:"any"`
	When      time.Time      `yaml:"when"`
	Tree      tree           `yaml:"tree"`
}

type typedDoc struct {
	APIVersion string      `yaml:"apiVersion"`
	Kind       string      `yaml:"kind"`
	Plan       planSection `yaml:"plan"`
}

// decodeTyped decodes data and returns the error text, "" for none.
func decodeTyped(data string) (typedDoc, string) {
	var d typedDoc
	_, err := Decode("f.yaml", []byte(data), "test/v1", "Sample", &d)
	if err != nil {
		return d, err.Error()
	}
	return d, ""
}

type decodeCase struct{ name, body, want string }

// runDecodeCases decodes prefix+body of each case into a typedDoc and
// compares the whole error text.
func runDecodeCases(t *testing.T, prefix string, tests []decodeCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, got := decodeTyped(prefix + tt.body); got != tt.want {
				t.Errorf("error %q\nwant  %q", got, tt.want)
			}
		})
	}
}

func TestWholeNumbers(t *testing.T) {
	t.Parallel()
	tests := []decodeCase{
		{"float into int64", "plan:\n  cpu: 0.9\n", "f.yaml:4: plan.cpu: got a number 0.9, expected a whole number"},
		{"float into int", "plan:\n  percent: 99.9\n", "f.yaml:4: plan.percent: got a number 99.9, expected a whole number"},
		{"float into *int", "plan:\n  limit: 730.9\n", "f.yaml:4: plan.limit: got a number 730.9, expected a whole number"},
		{"whole float", "plan:\n  cpu: 1.0\n", "f.yaml:4: plan.cpu: got a number 1.0, expected a whole number"},
		{"exponent", "plan:\n  cpu: 1e3\n", "f.yaml:4: plan.cpu: got a number 1e3, expected a whole number"},
		{"infinity", "plan:\n  cpu: .inf\n", "f.yaml:4: plan.cpu: got a number .inf, expected a whole number"},
		{"quoted number", "plan:\n  cpu: \"5\"\n", `f.yaml:4: plan.cpu: got a string "5", expected a whole number`},
		{"word", "plan:\n  cpu: lots\n", `f.yaml:4: plan.cpu: got a string "lots", expected a whole number`},
		{"boolean", "plan:\n  cpu: true\n", "f.yaml:4: plan.cpu: got a boolean true, expected a whole number"},
		{"in a list", "plan:\n  nums: [1, 2.5]\n", "f.yaml:4: plan.nums[1]: got a number 2.5, expected a whole number"},
		{"in a block list", "plan:\n  nums:\n  - 1\n  - 2.5\n", "f.yaml:6: plan.nums[1]: got a number 2.5, expected a whole number"},
		{"in a list of mappings", "plan:\n  pools:\n  - pool: a\n    targetUtilization: 70.5\n",
			"f.yaml:6: plan.pools[0].targetUtilization: got a number 70.5, expected a whole number"},
		{"negative into uint", "plan:\n  free: -1\n", "f.yaml:4: plan.free: got a number -1, expected a non-negative whole number"},
		{"word into float", "plan:\n  ratio: x\n", `f.yaml:4: plan.ratio: got a string "x", expected a number`},
		{"not a boolean", "plan:\n  on: maybe\n", `f.yaml:4: plan.on: got a string "maybe", expected true or false`},
		{"number into bool", "plan:\n  on: 1\n", "f.yaml:4: plan.on: got a number 1, expected true or false"},
		{"whole numbers", "plan:\n  cpu: 0x10\n  percent: -3\n  limit: 7\n  nums: [1, +2]\n  free: 1_000\n  ratio: 5\n", ""},
		{"null", "plan:\n  cpu: ~\n  limit:\n  on: null\n", ""},
		{"booleans", "plan:\n  on: yes\n", ""},
		{"duration", "plan:\n  wait: 30s\n", ""},
		{"timestamp", "plan:\n  when: 2026-01-15\n", ""},
		{"text unmarshaler takes any scalar", "plan:\n  level: 2.5\n", ""},
	}
	runDecodeCases(t, head, tests)
}

func TestTypeErrorPlace(t *testing.T) {
	t.Parallel()
	tests := []decodeCase{
		{"flow mapping", "plan: {roi: {days: x}}\n", `f.yaml:3: plan.roi.days: got a string "x", expected a whole number`},
		{"block of the wrong kind", "plan:\n  protected:\n    a: b\n", "f.yaml:4: plan.protected: got a mapping, expected a list"},
		{"list for a string", "plan:\n  name:\n  - a\n", "f.yaml:4: plan.name: got a list, expected a string"},
		{"flow list for a string", "plan: {name: [a]}\n", "f.yaml:3: plan.name: got a list, expected a string"},
		{"scalar for a mapping", "plan:\n  roi: 5\n", "f.yaml:4: plan.roi: got a number `5`, expected a mapping"},
		{"scalar for a list", "plan:\n  pools: none\n", "f.yaml:4: plan.pools: got a string `none`, expected a list"},
		{"list item of the wrong kind", "plan:\n  pools:\n  - pool: a\n  - [b]\n", "f.yaml:6: plan.pools[1]: got a list, expected a mapping"},
		{"list for a text unmarshaler", "plan:\n  level: [a]\n", "f.yaml:4: plan.level: got a list, expected a string"},
		{"mapping for a text struct", "plan:\n  when: {year: 2026}\n", "f.yaml:4: plan.when: got a mapping, expected a string"},
		{"unknown in flow", "plan: {roi: {dayz: 1}}\n", `f.yaml:3: plan.roi.dayz: unknown field; did you mean "days"?`},
		{"unknown in flow list", "plan: {pools: [{pool: a}, {pol: b}]}\n", `f.yaml:3: plan.pools[1].pol: unknown field; did you mean "pool"?`},
		{"unknown beside inline", "plan:\n  ownr: me\n", `f.yaml:4: plan.ownr: unknown field; did you mean "owner"?`},
		{"map key with dots", "plan:\n  byName:\n    m5.large: {days: 1.5}\n", "f.yaml:5: plan.byName.m5.large.days: got a number 1.5, expected a whole number"},
		{"first in document order", "plan:\n  name: [a]\n  cpu: 0.5\n", "f.yaml:4: plan.name: got a list, expected a string"},
		{"duplicate before a later mistake", "plan:\n  name: a\n  name: b\n  cpu: 0.5\n", `f.yaml:5: plan.name: mapping key "name" already defined at line 4`},
		{"duplicate in flow", "plan: {roi: {days: 1, days: 2}}\n", `f.yaml:3: plan.roi.days: mapping key "days" already defined at line 3`},
		{"anything goes", "plan:\n  owner: me\n  raw: {a: [1, {b: 2.5}]}\n  self: [1, 2]\n  any: {x: [y]}\n", ""},
	}
	runDecodeCases(t, head, tests)
}

func TestAliasesAndMerges(t *testing.T) {
	t.Parallel()
	tests := []decodeCase{
		{"merge", "plan:\n  roi: &r {days: 3}\n  byName:\n    a: {<<: *r}\n", ""},
		{"merged unknown field at the alias", "plan:\n  raw: &o {pool: a, colour: red}\n  pools:\n  - {<<: *o, targetUtilization: 5}\n",
			"f.yaml:6: plan.pools[0].colour: unknown field; expected one of pool, targetUtilization"},
		{"merged wrong value at the alias", "plan:\n  raw: &o {days: x}\n  roi:\n    <<: *o\n",
			`f.yaml:6: plan.roi.days: got a string "x", expected a whole number`},
		{"own key wins over a merged one", "plan:\n  raw: &o {days: x}\n  roi: {<<: *o, days: 2}\n", ""},
		{"earlier merged mapping wins", "plan:\n  raw: [&a {days: 1}, &b {days: x, dayz: 1}]\n  roi: {<<: [*a, *b]}\n",
			`f.yaml:5: plan.roi.dayz: unknown field; did you mean "days"?`},
		{"merge of a scalar", "plan:\n  raw: &s x\n  roi: {<<: *s}\n",
			"f.yaml:5: plan.roi.<<: got a string `x`, expected a mapping or a list of mappings to merge"},
		{"second merge item bad", "plan:\n  raw: [&a {days: 1}, &s x]\n  roi:\n    <<: [*a, *s]\n",
			"f.yaml:6: plan.roi.<<: got a string `x`, expected a mapping or a list of mappings to merge"},
		{"merge of an alias of a list", "plan:\n  raw: &l [{days: 1}]\n  roi: {<<: *l}\n",
			"f.yaml:5: plan.roi.<<: got a list, expected a mapping or a list of mappings to merge"},
		{"merged key given twice", "plan:\n  raw: &o {days: 1, days: 2}\n  roi: {<<: *o}\n",
			`f.yaml:5: plan.roi.days: mapping key "days" already defined at line 4`},
		{"alias of the wrong kind", "plan:\n  raw: &l [a]\n  name: *l\n", "f.yaml:5: plan.name: got a list, expected a string"},
		{"alias wrong deep inside", "plan:\n  raw: &p\n    pool: a\n    targetUtilization: 7.5\n  pools:\n  - *p\n",
			"f.yaml:8: plan.pools[0].targetUtilization: got a number 7.5, expected a whole number"},
		{"alias of a list", "plan:\n  raw: &l [1, 2.5]\n  nums: *l\n", "f.yaml:5: plan.nums[1]: got a number 2.5, expected a whole number"},
		{"alias used twice", "plan:\n  roi: &r {days: 3}\n  byName: {a: *r, b: *r}\n", ""},
		{"anchor merging itself", "plan:\n  roi: &r {<<: *r, days: 1}\n", "f.yaml: anchor 'r' value contains itself"},
	}
	runDecodeCases(t, head, tests)
}

// An anchor used many times is checked once: a document that expands
// exponentially through aliases reaches yaml.v3's own guard quickly.
func TestAliasExpansion(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("plan:\n  tree:\n    kids:\n    - &k0 {kids: []}\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "    - &k%d {kids: [", i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*k%d", i-1)
		}
		b.WriteString("]}\n")
	}
	if _, got := decodeTyped(head + b.String()); !strings.Contains(got, "excessive aliasing") {
		t.Errorf("error %q, want yaml.v3's excessive aliasing", got)
	}
}

func TestMergedValues(t *testing.T) {
	t.Parallel()
	d, err := decodeTyped(head + "plan:\n  raw: [&a {days: 1}, &b {days: 2}]\n  roi: {<<: [*a, *b]}\n  byName: {x: {<<: *b, days: 5}, y: *a}\n")
	if err != "" {
		t.Fatal(err)
	}
	if d.Plan.ROI.Days != 1 || d.Plan.ByName["x"].Days != 5 || d.Plan.ByName["y"].Days != 1 {
		t.Errorf("decoded %+v, want roi 1 (the first merge wins), x 5 (its own key wins), y 1", d.Plan)
	}
}

func TestEnvelopeAlias(t *testing.T) {
	t.Parallel()
	tests := []decodeCase{
		{"alias of the right version", "kind: Sample\nplan:\n  raw: &v test/v1\napiVersion: *v\n", ""},
		{"alias of the wrong version", "plan:\n  raw: &v v9\napiVersion: *v\nkind: Sample\n", `f.yaml:3: apiVersion: got "v9", expected "test/v1"`},
		{"alias of a list", "plan:\n  raw: &v [test/v1]\napiVersion: *v\nkind: Sample\n", `f.yaml:3: apiVersion: got a list, expected "test/v1"`},
		{"kind merged in", "<<: {kind: Sample}\napiVersion: test/v1\n", ""},
	}
	runDecodeCases(t, "", tests)
}

func TestLine(t *testing.T) {
	t.Parallel()
	var s typedDoc
	d, err := Decode("p.yaml", []byte(head+`plan:
  raw: &p {pool: a}
  pools:
  - <<: *p
    targetUtilization: 5
  - *p
  byName:
    m5.large: {days: 1}
    m5: {days: 2}
  protected: &l
  - a
  any: *l
`), "test/v1", "Sample", &s)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want int
	}{
		{"", 1},
		{"plan.pools", 5},
		{"plan.pools[0]", 6},
		{"plan.pools[0].pool", 6}, // merged: at the alias
		{"plan.pools[0].targetUtilization", 7},
		{"plan.pools[1].pool", 8}, // through an alias: at the alias
		{"plan.pools[2]", 5},      // no such item: its list
		{"plan.raw.pool", 4},
		{"plan.byName.m5.large.days", 10},
		{"plan.byName.m5.large", 10},
		{"plan.byName.m5.days", 11},
		{"plan.byName.m6.days", 9},
		{"plan.protected[0]", 13},
		{"plan.any[0]", 14},
		{"plan.nothing", 3},
	}
	for _, tt := range tests {
		if got := d.Line(tt.path); got != tt.want {
			t.Errorf("Line(%q) = %d, want %d", tt.path, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s          string
		candidates []string
		want       string
	}{
		{"sevrity", []string{"severity", "check"}, "severity"},
		{"zzzzzz", []string{"severity", "check"}, ""},
		{"pool", []string{"pool", "poll"}, "poll"}, // never the name itself
		{"pool", []string{"pool"}, ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.s, tt.candidates); got != tt.want {
			t.Errorf("Closest(%q, %q) = %q, want %q", tt.s, tt.candidates, got, tt.want)
		}
	}
}
