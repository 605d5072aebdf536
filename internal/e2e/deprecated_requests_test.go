package e2e

import (
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// deprecatedRequestsLive checks, on a live snapshot taken after a client
// read widgets through v1alpha1, that the API server's count of deprecated
// requests is read and reported as the API still called, with the metric
// as the source of the evidence.
func deprecatedRequestsLive(t *testing.T, s *snapshot.Snapshot, run func(*snapshot.Snapshot) map[string]audit.Finding) {
	if s.Meta.DeprecatedRequests == nil {
		t.Fatal("the API server's /metrics was not read")
	}
	f, ok := run(s)["APIResource//widgets.v1alpha1.example.purser.dev"]
	if !ok {
		t.Fatalf("requests to widgets v1alpha1 are not reported; requests %v", *s.Meta.DeprecatedRequests)
	}
	ev := strings.Join(f.Evidence, "\n")
	for _, want := range []string{
		`apiserver_requested_deprecated_apis{group="example.purser.dev",version="v1alpha1",resource="widgets"`,
		"source: apiserver metric; high confidence that it was called",
		"warns: example.purser.dev/v1alpha1 Widget is deprecated; use example.purser.dev/v1",
	} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
	if f.Severity != audit.Warning || !strings.HasSuffix(f.Message, "; use example.purser.dev/v1") {
		t.Errorf("%v %q, want a warning naming example.purser.dev/v1", f.Severity, f.Message)
	}
}
