package checks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// The severity follows the cluster's version from the snapshot: a warning
// while the API is only deprecated (or the version is unknown), an error
// once the cluster has removed it. A live snapshot's unmodelled objects
// carry the version they were listed through, which is no evidence.
func TestAPIDeprecatedSeverityFollowsClusterVersion(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "api-deprecated", "fail-hpa-v2beta2.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	declared, err := os.ReadFile(filepath.Join("testdata", "api-deprecated", "fail-declared-in-file.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, server, source string
		doc                  []byte
		want                 int
		severity             audit.Severity
		message, remedy      string
	}{
		{"unknown version", "", "fixture", data, 1, audit.Warning, "removed in 1.26", "before upgrading the cluster to 1.26"},
		{"before removal", "v1.25.16", "fixture", data, 1, audit.Warning, "removed in 1.26", "before upgrading"},
		{"at removal", "v1.26.0", "fixture", data, 1, audit.Error, "removed in Kubernetes 1.26, and this cluster runs 1.26", "autoscaling/v2 now"},
		{"after removal", "v1.34.2-do.1", "fixture", data, 1, audit.Error, "this cluster runs 1.34", "now"},
		{"file declares", "", "fixture", declared, 2, audit.Warning, "is declared as", "before upgrading the cluster to 1."},
		{"live references", "v1.34.2", "live:https://127.0.0.1:6443", declared, 0, audit.Warning, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := snapshot.LoadManifests("fixture", tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			s.Meta.ServerVersion, s.Meta.Source = tc.server, tc.source
			got := apiDeprecated().Run(context.Background(), &audit.Input{Index: snapshot.NewIndex(s), Config: fixtureConfig()})
			if len(got) != tc.want {
				t.Fatalf("%d findings, want %d: %+v", len(got), tc.want, got)
			}
			for _, f := range got {
				if f.Severity != tc.severity {
					t.Errorf("severity %v, want %v: %s", f.Severity, tc.severity, f.Message)
				}
				if !strings.Contains(f.Message, tc.message) {
					t.Errorf("message %q, want it to contain %q", f.Message, tc.message)
				}
				if !strings.Contains(f.Remediation.Text, tc.remedy) {
					t.Errorf("remediation %q, want it to contain %q", f.Remediation.Text, tc.remedy)
				}
			}
		})
	}
}
