package auditreport

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/golden"
)

// incompleteResult audits testdata/cluster.yaml as if Secrets and
// NetworkPolicies had been forbidden: secret-unused and namespace-empty
// run without a kind they read, pod-crashloop does not.
func incompleteResult(t *testing.T) *audit.Result {
	t.Helper()
	s := fixtureSnapshot(t)
	s.SetKind(snapshot.KindStatus{Version: "v1", Resource: "secrets", Kind: "Secret", Namespaced: true, Error: "forbidden"})
	s.SetKind(snapshot.KindStatus{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies", Kind: "NetworkPolicy",
		Namespaced: true, Error: "forbidden"})
	return auditFixture(t, s, audit.Options{Checks: []string{"pod-crashloop", "secret-unused", "namespace-empty"}})
}

func TestGoldenIncomplete(t *testing.T) {
	t.Parallel()
	assertTableGolden(t, incompleteResult(t), "audit-incomplete.txt")
}

// auditFixture runs the checks o names over s.
func auditFixture(t *testing.T, s *snapshot.Snapshot, o audit.Options) *audit.Result {
	t.Helper()
	res, err := audit.Run(context.Background(), snapshot.NewIndex(s), checks.Registry(), nil, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// assertTableGolden compares the table view of res with testdata/name.
func assertTableGolden(t *testing.T, res *audit.Result, name string) {
	t.Helper()
	var b bytes.Buffer
	if err := Table(&b, res); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", name), b.Bytes())
}

// Every format names the incomplete checks and what they could not read.
func TestIncompleteInEveryFormat(t *testing.T) {
	t.Parallel()
	res := incompleteResult(t)
	if res.Incomplete != 2 {
		t.Fatalf("Incomplete = %d, want 2 (secret-unused, namespace-empty)", res.Incomplete)
	}
	want := map[string][]string{
		"table":    {"2 checks incomplete: kinds networkpolicies.networking.k8s.io, secrets could not be read", "secret-unused (without secrets)"},
		"json":     {`"status": "incomplete"`, `"unreadKinds": [`, `"incompleteChecks": 2`},
		"yaml":     {"status: incomplete", "unreadKinds:", "incompleteChecks: 2"},
		"markdown": {"**2 checks incomplete: kinds", "- `secret-unused`: secrets could not be read"},
		"html":     {"<strong>2 checks incomplete: kinds", "<li><code>secret-unused</code>: secrets could not be read</li>"},
		"sarif":    {`"toolExecutionNotifications"`, "Check secret-unused is incomplete: secrets could not be read"},
	}
	for _, format := range Formats() {
		var b bytes.Buffer
		if err := Write(&b, format, res); err != nil {
			t.Fatal(err)
		}
		for _, text := range want[format] {
			if !strings.Contains(b.String(), text) {
				t.Errorf("-o %s lacks %q:\n%s", format, text, b.String())
			}
		}
		if format != "json" && format != "yaml" && strings.Contains(b.String(), "pod-crashloop (without") {
			t.Errorf("-o %s marks pod-crashloop incomplete, though it reads neither kind", format)
		}
	}
}

// The notifications keep the log valid SARIF 2.1.0: an invocation says
// whether the run succeeded, and each notification's rule reference
// points at the rule it names.
func TestSARIFIncomplete(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := SARIF(&b, incompleteResult(t)); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				ExecutionSuccessful *bool `json:"executionSuccessful"`
				Notifications       []struct {
					Level   string `json:"level"`
					Message struct {
						Text string `json:"text"`
					} `json:"message"`
					AssociatedRule struct {
						ID    string `json:"id"`
						Index int    `json:"index"`
					} `json:"associatedRule"`
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	inv := log.Runs[0].Invocations
	if len(inv) != 1 || inv[0].ExecutionSuccessful == nil || !*inv[0].ExecutionSuccessful {
		t.Fatalf("invocations = %+v, want one successful", inv)
	}
	if len(inv[0].Notifications) != 2 {
		t.Fatalf("%d notifications, want 2", len(inv[0].Notifications))
	}
	rules := log.Runs[0].Tool.Driver.Rules
	for _, n := range inv[0].Notifications {
		if n.Level != "warning" || n.Message.Text == "" {
			t.Errorf("notification %+v: want a warning with a message", n)
		}
		if rules[n.AssociatedRule.Index].ID != n.AssociatedRule.ID {
			t.Errorf("notification for %s points at rule %d (%s)", n.AssociatedRule.ID, n.AssociatedRule.Index, rules[n.AssociatedRule.Index].ID)
		}
	}
}
