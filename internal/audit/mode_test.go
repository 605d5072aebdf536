package audit_test

import (
	"context"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// declared is a check that says whether it runs on manifests.
type declared struct {
	everyConfigMap
	m audit.Manifests
}

func (d declared) OnManifests() audit.Manifests { return d.m }

func TestRunManifestMode(t *testing.T) {
	t.Parallel()
	reg := []audit.Check{
		declared{everyConfigMap{"spec-check"}, audit.RunsOnManifests()},
		declared{everyConfigMap{"status-check"}, audit.NeedsCluster("needs a cluster: status")},
		everyConfigMap{"silent-check"},
		declared{everyConfigMap{"zero-check"}, audit.Manifests{}},
	}
	tests := []struct {
		name        string
		mode        audit.Mode
		wantRan     []string
		wantSkipped map[string]string
		wantMode    audit.Mode
	}{
		{name: "cluster runs every check", mode: audit.ModeCluster,
			wantRan: []string{"spec-check", "status-check", "silent-check", "zero-check"}},
		{name: "default mode is the cluster", mode: "",
			wantRan: []string{"spec-check", "status-check", "silent-check", "zero-check"}},
		{name: "manifests skip what needs a cluster or is undeclared", mode: audit.ModeManifests, wantMode: audit.ModeManifests,
			wantRan: []string{"spec-check"},
			wantSkipped: map[string]string{
				"status-check": "needs a cluster: status",
				"silent-check": "needs a cluster: the check does not say whether manifests alone answer it",
				"zero-check":   "needs a cluster: the check does not say whether manifests alone answer it",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := audit.Run(context.Background(), snapshot.NewIndex(testSnapshot()), reg, nil, audit.Options{Mode: tt.mode})
			if err != nil {
				t.Fatal(err)
			}
			if res.Mode != tt.wantMode {
				t.Errorf("mode %q, want %q", res.Mode, tt.wantMode)
			}
			ran := map[string]bool{}
			for _, f := range res.Findings {
				ran[f.CheckID] = true
			}
			for _, id := range tt.wantRan {
				if !ran[id] {
					t.Errorf("check %s gave no findings; it should have run", id)
				}
			}
			if len(res.Checks) != len(reg) {
				t.Fatalf("%d checks listed, want every one of %d, skipped included", len(res.Checks), len(reg))
			}
			for _, c := range res.Checks {
				want, skipped := tt.wantSkipped[c.ID]
				if c.Skipped() != skipped || c.SkipReason != want {
					t.Errorf("check %s: status %q reason %q, want skipped=%v reason %q", c.ID, c.Status, c.SkipReason, skipped, want)
				}
				if skipped && (ran[c.ID] || c.Findings != 0) {
					t.Errorf("skipped check %s reported findings", c.ID)
				}
			}
			if res.Skipped != len(tt.wantSkipped) || len(res.SkippedChecks()) != len(tt.wantSkipped) {
				t.Errorf("skipped count %d (%d listed), want %d", res.Skipped, len(res.SkippedChecks()), len(tt.wantSkipped))
			}
			if (res.SkippedText() == "") != (len(tt.wantSkipped) == 0) {
				t.Errorf("SkippedText %q with %d skipped", res.SkippedText(), len(tt.wantSkipped))
			}
		})
	}
}

func TestManifestsDeclared(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m    audit.Manifests
		want bool
	}{
		{audit.RunsOnManifests(), true},
		{audit.NeedsCluster("why"), true},
		{audit.Manifests{}, false},
		{audit.Manifests{Runs: true, Skip: "both"}, false},
	}
	for _, tt := range tests {
		if got := tt.m.Declared(); got != tt.want {
			t.Errorf("%+v.Declared() = %v, want %v", tt.m, got, tt.want)
		}
	}
}
