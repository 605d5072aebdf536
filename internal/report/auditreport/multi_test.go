package auditreport

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// The same finding in two clusters is two findings: two identities in
// the JSON document, two fingerprints and two runs in SARIF, each result
// naming its cluster. A single cluster keeps the identity it always had.
func TestMultiIdentity(t *testing.T) {
	t.Parallel()
	f := audit.Finding{CheckID: "service-no-endpoints", Severity: audit.Error, Object: snapshot.Ref{Kind: "Service", Namespace: "shop", Name: "web"}, Message: "no endpoints"}
	res := func() *audit.Result {
		return &audit.Result{Source: "live:x", Findings: []audit.Finding{f}, Checks: []audit.CheckInfo{{ID: f.CheckID}}}
	}
	m := Multi{Clusters: []ClusterResult{{Cluster: "a", Result: res()}, {Cluster: "b", Result: res()}}}

	doc := MultiDocument(m)
	if len(doc.Findings) != 2 || doc.Findings[0].Cluster != "a" || doc.Findings[1].Cluster != "b" {
		t.Fatalf("findings %+v", doc.Findings)
	}
	if doc.Findings[0].Identity == doc.Findings[1].Identity {
		t.Errorf("the same finding in two clusters has one identity")
	}
	if audit.ClusterIdentity("", f.CheckID, f.Object) != audit.Identity(f.CheckID, f.Object) {
		t.Errorf("without a cluster the identity changed: a single cluster's history would restart")
	}

	var b bytes.Buffer
	if err := MultiSARIF(&b, m); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			AutomationDetails struct{ ID string } `json:"automationDetails"`
			Results           []struct {
				PartialFingerprints map[string]string        `json:"partialFingerprints"`
				Properties          struct{ Cluster string } `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 2 {
		t.Fatalf("%d runs, want one per cluster", len(log.Runs))
	}
	seen := map[string]bool{}
	for i, name := range []string{"a", "b"} {
		run := log.Runs[i]
		if run.AutomationDetails.ID != "purser/"+name+"/" || len(run.Results) != 1 || run.Results[0].Properties.Cluster != name {
			t.Errorf("run %d: %+v", i, run)
			continue
		}
		fp := run.Results[0].PartialFingerprints[sarifClusterFingerprintKey]
		if fp == "" || seen[fp] || fp != audit.ClusterIdentity(name, f.CheckID, f.Object) {
			t.Errorf("run %s: fingerprint %q", name, fp)
		}
		seen[fp] = true
	}
}
