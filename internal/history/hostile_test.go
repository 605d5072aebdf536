package history_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/mdcheck"
)

// Names, messages, group keys and sources come from the cluster or the
// command line: in a diff they stay text, in Markdown and on a terminal.
func TestDiffHostileText(t *testing.T) {
	t.Parallel()
	h := mdcheck.Hostile()
	obj := snapshot.Ref{Kind: "Service", Namespace: "shop", Name: h}
	f := history.Finding{Key: audit.Identity("service-no-endpoints", obj), Check: "service-no-endpoints", Severity: audit.Error, Workload: obj, Object: obj, Message: h}
	a := history.Scan{Source: h, Checks: map[string]string{f.Check: audit.StatusOK}, Currency: "USD",
		Cost: []history.GroupCost{{By: "namespace", Key: h, Monthly: money.New("USD", 1)}}}
	b := history.Scan{Source: "later", Findings: []history.Finding{f}, Checks: a.Checks, Currency: "USD", Objects: []snapshot.Ref{obj}}
	d, err := history.Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := history.Markdown(&md, d); err != nil {
		t.Fatal(err)
	}
	rendered := mdcheck.Check(t, md.Bytes(), "evil", nil)
	if !mdcheck.InTableCell(rendered) {
		t.Errorf("the hostile message split its table row:\n%s", md.String())
	}
	var table bytes.Buffer
	if err := history.Table(&table, d); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(table.String(), "\x1b\a") {
		t.Errorf("the table holds raw control characters:\n%q", table.String())
	}
}
