package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// purser audit -o sarif locates each result at the file and line its
// object was read from, also when the files were first saved as a
// snapshot, so that code scanning accepts the log and shows the line.
func TestAuditSARIFLocatesFiles(t *testing.T) {
	t.Parallel()
	const manifests = "../report/auditreport/testdata/cluster.yaml"
	saved := filepath.Join(t.TempDir(), "cluster.snap")
	var out, errOut bytes.Buffer
	root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs([]string{"snapshot", "save", saved, "--from", manifests})
	if err := root.ExecuteContext(t.Context()); err != nil {
		t.Fatalf("saving: %v: %s", err, errOut.String())
	}
	for _, from := range []string{manifests, saved} {
		out, stderr, err := runAudit(t, "--from", from, "-o", "sarif", "--checks", "pod-crashloop,namespace-empty")
		if err != nil {
			t.Fatalf("%s: %v: %s", from, err, stderr)
		}
		var log struct {
			Runs []struct {
				Results []struct {
					RuleID    string `json:"ruleId"`
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
							Region           struct{ StartLine int } `json:"region"`
						} `json:"physicalLocation"`
					} `json:"locations"`
				} `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal([]byte(out), &log); err != nil {
			t.Fatalf("%s: %v", from, err)
		}
		if len(log.Runs) != 1 || len(log.Runs[0].Results) < 2 {
			t.Fatalf("%s: want results of both checks, got %s", from, out)
		}
		for _, r := range log.Runs[0].Results {
			pl := r.Locations[0].PhysicalLocation
			if pl.ArtifactLocation.URI != manifests || pl.Region.StartLine < 2 {
				t.Errorf("%s: %s located at %s line %d, want %s and the object's line", from, r.RuleID, pl.ArtifactLocation.URI, pl.Region.StartLine, manifests)
			}
		}
	}
}
