package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// slowCheck sleeps, so that its place in the profile is known.
type slowCheck struct {
	everyConfigMap
	d time.Duration
}

func (c slowCheck) Run(ctx context.Context, in *audit.Input) []audit.Finding {
	time.Sleep(c.d)
	return c.everyConfigMap.Run(ctx, in)
}

func TestProfileRecordsEachCheckSlowestFirst(t *testing.T) {
	t.Parallel()
	ix := snapshot.NewIndex(testSnapshot())
	reg := []audit.Check{slowCheck{everyConfigMap{"quick"}, 0}, slowCheck{everyConfigMap{"slow"}, 30 * time.Millisecond},
		slowCheck{everyConfigMap{"skipped"}, 0}}
	p := &audit.Profile{}
	res, err := audit.Run(audit.WithProfile(t.Context(), p), ix, reg, nil, audit.Options{Checks: []string{"quick", "slow"}})
	if err != nil {
		t.Fatal(err)
	}
	got := p.Checks()
	if len(got) != 2 || got[0].ID != "slow" || got[1].ID != "quick" {
		t.Fatalf("profile %+v; want slow then quick, and no check that did not run", got)
	}
	if got[0].Elapsed < 30*time.Millisecond || p.Total() < got[0].Elapsed+got[1].Elapsed {
		t.Errorf("slow check took %s, total %s", got[0].Elapsed, p.Total())
	}
	// Findings are those reported, after annotations suppressed some.
	if got[0].Findings+got[1].Findings != len(res.Findings) || got[0].Findings == 0 || len(res.Suppressed) == 0 {
		t.Errorf("profile counts %d and %d findings; the result reports %d and suppresses %d",
			got[0].Findings, got[1].Findings, len(res.Findings), len(res.Suppressed))
	}
	// Without a profile in the context, the run records nothing and still works.
	if _, err := audit.Run(t.Context(), ix, reg, nil, audit.Options{}); err != nil {
		t.Fatal(err)
	}
}
