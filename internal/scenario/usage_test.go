package scenario_test

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"github.com/purserhq/purser/internal/rightsize"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/testutil/golden"
)

// The shipped history is what the generator makes of the shipped
// snapshot: compared decoded, since compressed bytes may differ between
// Go versions. -update re-records it.
func TestDemoUsage(t *testing.T) {
	t.Parallel()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	want := scenario.GenerateDemoUsage(s)
	if golden.Update() {
		var b bytes.Buffer
		if err := rightsize.WriteHistory(&b, want); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(scenario.DemoUsageFile, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := scenario.DemoUsage()
	if err != nil {
		t.Fatal(err)
	}
	if !got.Start.Equal(want.Start) || got.Step != want.Step || got.Source != want.Source || !reflect.DeepEqual(got.Series, want.Series) {
		t.Fatalf("%s is not what GenerateDemoUsage makes of the demo snapshot: re-record it with go test -run TestDemoUsage -update", scenario.DemoUsageFile)
	}
	oom := 0
	for _, sr := range got.Series {
		if len(sr.CPUMilli) != 14*24 || len(sr.MemoryMiB) != 14*24 {
			t.Errorf("%s/%s/%s: %d CPU and %d memory figures, want two weeks hourly", sr.Namespace, sr.Pod, sr.Container, len(sr.CPUMilli), len(sr.MemoryMiB))
		}
		if sr.OOMKilled {
			oom++
		}
	}
	if len(got.Series) != 163 || oom != 2 {
		t.Errorf("%d series, %d OOM-killed; want every container of the 163 running pods, both replicas of kvibe-prod's backend killed", len(got.Series), oom)
	}
}
