package synth_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/scenario/synth"
	"github.com/purserhq/purser/internal/snapshot"
)

func TestGenerateRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := synth.Generate(synth.Config{Pods: 1000, Seed: 1})
	want, err := snapshot.Digest(s)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := synth.Generate(synth.Config{Pods: 1000, Seed: 1})
	if d, _ := snapshot.Digest(again); d != want {
		t.Fatalf("the same seed gave digest %s, then %s", want, d)
	}
	other, _ := synth.Generate(synth.Config{Pods: 1000, Seed: 2})
	if d, _ := snapshot.Digest(other); d == want {
		t.Fatalf("seeds 1 and 2 gave the same cluster %s", d)
	}

	dir := t.TempDir()
	var saved bytes.Buffer
	if err := snapshot.Encode(ctx, &saved, s); err != nil {
		t.Fatal(err)
	}
	snapPath := filepath.Join(dir, "x.snap")
	if err := os.WriteFile(snapPath, saved.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var export bytes.Buffer
	if err := synth.WriteKubectlJSON(ctx, &export, s); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(export.Bytes(), []byte("{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n        {\n            \"apiVersion\"")) {
		t.Errorf("export is not indented as kubectl indents it: %.120q", export.String())
	}
	jsonPath := filepath.Join(dir, "export.json")
	if err := os.WriteFile(jsonPath, export.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{snapPath, jsonPath} {
		loaded, err := snapshot.Load(ctx, path, nil)
		if err != nil {
			t.Fatalf("load %s: %v", filepath.Base(path), err)
		}
		if len(loaded.Pods) != len(s.Pods) || len(loaded.Nodes) != len(s.Nodes) || len(loaded.Namespaces) != len(s.Namespaces) {
			t.Errorf("%s: loaded %d pods, %d nodes, %d namespaces; generated %d, %d, %d", filepath.Base(path),
				len(loaded.Pods), len(loaded.Nodes), len(loaded.Namespaces), len(s.Pods), len(s.Nodes), len(s.Namespaces))
		}
		if got, err := snapshot.Digest(loaded); err != nil || got != want {
			t.Errorf("%s: digest %s (%v), generated %s", filepath.Base(path), got, err, want)
		}
	}
}

func TestGenerateSizes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg                     synth.Config
		pods, nodes, namespaces int
	}{
		{synth.Config{Pods: 1}, 1, 3, 2},
		{synth.Config{Pods: 1000}, 1000, 33, 66},
		{synth.Config{Pods: 3000, Nodes: 7, Namespaces: 9}, 3000, 7, 9},
	}
	for _, tt := range tests {
		s, _ := synth.Generate(tt.cfg)
		if len(s.Pods) != tt.pods || len(s.Nodes) != tt.nodes || len(s.Namespaces) != tt.namespaces {
			t.Errorf("%+v: %d pods, %d nodes, %d namespaces; want %d, %d, %d", tt.cfg,
				len(s.Pods), len(s.Nodes), len(s.Namespaces), tt.pods, tt.nodes, tt.namespaces)
		}
	}
}

// TestPlantedFaults audits a generated cluster: every check finds exactly
// what was planted for it, and no check finds anything else.
func TestPlantedFaults(t *testing.T) {
	t.Parallel()
	s, planted := synth.Generate(synth.Config{Pods: 1000, Seed: 7})
	for _, id := range []string{synth.CheckPodPending, synth.CheckPodCrashLoop, synth.CheckServiceEndpoints, synth.CheckNamespaceEmpty} {
		if planted[id] == 0 {
			t.Errorf("no %s fault planted at 1000 pods", id)
		}
	}
	res, err := audit.Run(t.Context(), snapshot.NewIndex(s), checks.Registry(), nil, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]int{}
	for _, f := range res.Findings {
		found[f.CheckID]++
	}
	for _, c := range res.Checks {
		if found[c.ID] != planted[c.ID] {
			t.Errorf("%s: %d findings, %d planted", c.ID, found[c.ID], planted[c.ID])
			for _, f := range res.Findings {
				if f.CheckID == c.ID && found[c.ID]-planted[c.ID] > 0 {
					t.Logf("  %s: %s", f.Object, f.Message)
					break
				}
			}
		}
	}
}
