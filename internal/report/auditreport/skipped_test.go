package auditreport

import (
	"bytes"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
)

// skippedResult audits testdata/cluster.yaml in manifests mode with one
// check that needs a cluster (pod-crashloop) and one that does not
// (image-latest-tag).
func skippedResult(t *testing.T) *audit.Result {
	t.Helper()
	return auditFixture(t, fixtureSnapshot(t), audit.Options{Checks: []string{"pod-crashloop", "image-latest-tag"}, Mode: audit.ModeManifests})
}

func TestGoldenSkipped(t *testing.T) {
	t.Parallel()
	assertTableGolden(t, skippedResult(t), "audit-skipped.txt")
}

// Every format but SARIF names the skipped checks and why they did not
// run, and counts only the checks that ran.
func TestSkippedInEveryFormat(t *testing.T) {
	t.Parallel()
	res := skippedResult(t)
	if res.Skipped != 1 || res.Ran() != 1 {
		t.Fatalf("Skipped = %d, Ran = %d; want 1 and 1", res.Skipped, res.Ran())
	}
	reason := "needs a cluster: restarts and exit codes are pod status"
	want := map[string][]string{
		"table":    {"Audit of testdata/cluster.yaml, manifests, before they ship:", "(1 checks)", "1 check skipped: manifests carry no status and are not the whole cluster:", "pod-crashloop (" + reason + ")"},
		"json":     {`"mode": "manifests"`, `"status": "skipped"`, `"skipReason": "` + reason + `"`, `"skippedChecks": 1`},
		"yaml":     {"mode: manifests", "status: skipped", "skipReason: '" + reason + "'", "skippedChecks: 1"},
		"markdown": {"Scope: manifests, before they ship.", "1 checks ran", "**1 check skipped: manifests carry no status", "- `pod-crashloop`: skipped, " + reason},
		"html":     {"Scope: manifests, before they ship.", "1 checks ran", "<strong>1 check skipped: manifests carry no status", "<li><code>pod-crashloop</code>: skipped, " + reason + "</li>"},
	}
	for _, format := range Formats() {
		if format == "sarif" {
			continue
		}
		var b bytes.Buffer
		if err := Write(&b, format, res); err != nil {
			t.Fatal(err)
		}
		for _, text := range want[format] {
			if !strings.Contains(b.String(), text) {
				t.Errorf("-o %s lacks %q:\n%s", format, text, b.String())
			}
		}
	}
}

// A cluster audit says nothing of skipped checks or of its mode.
func TestClusterAuditHasNoSkipped(t *testing.T) {
	t.Parallel()
	res := auditFixture(t, fixtureSnapshot(t), audit.Options{Checks: []string{"pod-crashloop"}})
	for _, format := range []string{"json", "markdown", "table"} {
		var b bytes.Buffer
		if err := Write(&b, format, res); err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{"skipped", `"mode"`} {
			if strings.Contains(b.String(), text) {
				t.Errorf("-o %s of a cluster audit mentions %q", format, text)
			}
		}
	}
}
