package checks

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// fixtureExpect is what a fixture's header comments ask of the findings:
//
//	# expect: Service/shop/web          (the exact set of objects found)
//	# expect-command: {"spec":...}      (a substring of some remediation command)
//	# expect-cause: label conventions   (a substring of some cause)
//	# expect-evidence: 26 of 27         (a substring of some evidence line or message)
//	# expect-fix: maxUnavailable: 0     (a substring of some fix: text, command, manifest or patch)
//	# expect-no-fix: --replicas=2       (a substring of no fix)
//	# mode: manifests                    (audit the fixture as manifests before they ship)
type fixtureExpect struct {
	objects, commands, causes, evidence, fixes, noFixes []string
	mode                                                audit.Mode
}

func readExpect(data []byte) fixtureExpect {
	var e fixtureExpect
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, val, ok := strings.Cut(strings.TrimPrefix(line, "#"), ":")
		if !strings.HasPrefix(line, "#") || !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "expect":
			e.objects = append(e.objects, val)
		case "expect-command":
			e.commands = append(e.commands, val)
		case "expect-cause":
			e.causes = append(e.causes, val)
		case "expect-evidence":
			e.evidence = append(e.evidence, val)
		case "expect-fix":
			e.fixes = append(e.fixes, val)
		case "expect-no-fix":
			e.noFixes = append(e.noFixes, val)
		case "mode":
			e.mode = audit.Mode(val)
		}
	}
	return e
}

// fileWord is a command word that names a manifest or patch file.
var fileWord = regexp.MustCompile(`\.(ya?ml|json)$`)

var kebab = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

func TestRegistryIDs(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range Registry() {
		id := c.ID()
		if !kebab.MatchString(id) {
			t.Errorf("check ID %q is not kebab-case", id)
		}
		if seen[id] {
			t.Errorf("check ID %q registered twice", id)
		}
		seen[id] = true
		if len(c.Description()) < 80 {
			t.Errorf("check %s: description too short to document it", id)
		}
	}
}

// TestFixtures runs every registered check over its fixtures: each check
// needs a failing and a passing one; a failing fixture must produce a
// complete finding (and what its "# expect:" header names), a passing one
// none.
func TestFixtures(t *testing.T) {
	t.Parallel()
	for _, check := range Registry() {
		id := check.ID()
		files, err := filepath.Glob(filepath.Join("testdata", id, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var fail, pass int
		for _, f := range files {
			if strings.HasPrefix(filepath.Base(f), "fail-") {
				fail++
			} else if strings.HasPrefix(filepath.Base(f), "pass-") {
				pass++
			}
		}
		if fail == 0 || pass == 0 {
			t.Errorf("check %s has %d failing and %d passing fixtures; it needs at least one of each", id, fail, pass)
		}
		for _, file := range files {
			t.Run(id+"/"+filepath.Base(file), func(t *testing.T) {
				t.Parallel()
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				s, err := snapshot.LoadManifests(file, data)
				if err != nil {
					t.Fatal(err)
				}
				got := check.Run(context.Background(), &audit.Input{Index: snapshot.NewIndex(s), Config: fixtureConfig(),
					Mode: cmp.Or(readExpect(data).mode, audit.ModeCluster)})
				for _, f := range got {
					if f.CheckID != id || f.Message == "" || f.Cause == "" || f.Remediation.Text == "" || f.Object.Name == "" {
						t.Errorf("incomplete finding: %+v", f)
					}
				}
				if !strings.HasPrefix(filepath.Base(file), "fail-") {
					for _, f := range got {
						t.Errorf("passing fixture has a finding: %s: %s (%s)", f.Object, f.Message, f.Cause)
					}
					return
				}
				if len(got) == 0 {
					t.Fatalf("failing fixture has no finding")
				}
				want := readExpect(data)
				if len(want.objects) > 0 {
					var objs []string
					for _, f := range got {
						objs = append(objs, f.Object.String())
					}
					sort.Strings(objs)
					sort.Strings(want.objects)
					if strings.Join(objs, " ") != strings.Join(want.objects, " ") {
						t.Errorf("findings about %v, want %v", objs, want.objects)
					}
				}
				has := func(what string, sub string, field func(audit.Finding) []string) {
					for _, f := range got {
						for _, v := range field(f) {
							if strings.Contains(v, sub) {
								return
							}
						}
					}
					t.Errorf("no finding has %s containing %q", what, sub)
					for _, f := range got {
						t.Logf("  %s | cause %s | command %s | evidence %q", f.Message, f.Cause, f.Remediation.Command, f.Evidence)
					}
				}
				for _, c := range want.commands {
					has("a command", c, func(f audit.Finding) []string {
						out := []string{f.Remediation.Command, f.Remediation.Text}
						if f.Remediation.Patch != nil {
							out = append(out, f.Remediation.Patch.Body)
						}
						return out
					})
				}
				for _, c := range want.causes {
					has("a cause", c, func(f audit.Finding) []string { return []string{f.Cause} })
				}
				for _, c := range want.evidence {
					has("evidence", c, func(f audit.Finding) []string { return append([]string{f.Message}, f.Evidence...) })
				}
				for _, c := range want.fixes {
					has("a fix", c, fixTexts)
				}
				for _, c := range want.noFixes {
					for _, f := range got {
						for _, v := range fixTexts(f) {
							if strings.Contains(v, c) {
								t.Errorf("%s: fix contains %q:\n%s", f.Object, c, v)
							}
						}
					}
				}
				// What --write-fixes writes must be what the commands name,
				// and a command names no other file.
				if _, err := audit.FixFiles(got); err != nil {
					t.Errorf("fix files: %v", err)
				}
				for _, f := range got {
					for _, w := range strings.Fields(f.Remediation.Command) {
						w = strings.Trim(w, `'"`)
						if fileWord.MatchString(w) && w != f.Remediation.File {
							t.Errorf("%s: command names %s, which --write-fixes does not write (its file: %q):\n%s",
								f.Object, w, f.Remediation.File, f.Remediation.Command)
						}
					}
				}
			})
		}
	}
}

// fixTexts are the parts of a finding's fix a person reads or runs.
func fixTexts(f audit.Finding) []string {
	r := f.Remediation
	out := []string{r.Text, r.Command, r.Manifest}
	if r.Patch != nil {
		out = append(out, r.Patch.Body)
	}
	return out
}

// A kind that could not be listed makes a namespace unknown, never empty.
func TestNamespaceEmptyUnknownWhenAKindIsUnlisted(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "namespace-empty", "fail-defaults-only.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.LoadManifests("fixture", data)
	if err != nil {
		t.Fatal(err)
	}
	s.SetKind(snapshot.KindStatus{Group: "example.com", Version: "v1", Resource: "widgets", Kind: "Widget", Namespaced: true,
		Error: "forbidden"})
	got := namespaceEmpty().Run(context.Background(), &audit.Input{Index: snapshot.NewIndex(s), Config: &audit.Config{}})
	if len(got) != 0 {
		t.Errorf("namespace reported empty although widgets could not be listed: %+v", got)
	}
}
