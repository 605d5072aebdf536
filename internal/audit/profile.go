package audit

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// CheckTime is how long one check took and how many findings it reported (after exemptions and annotations).
type CheckTime struct {
	ID       string
	Elapsed  time.Duration
	Findings int
}

// Profile records how long each check of a run takes, so that a slow check
// is visible to the user (purser audit --profile). It travels in the
// context, as net/http/httptrace does, so that the Result stays a pure
// function of the snapshot: durations differ from run to run.
type Profile struct {
	mu     sync.Mutex
	checks []CheckTime
}

type profileKey struct{}

// WithProfile returns ctx carrying p: Run records each check's time in it.
func WithProfile(ctx context.Context, p *Profile) context.Context {
	return context.WithValue(ctx, profileKey{}, p)
}

func profileFrom(ctx context.Context) *Profile {
	p, _ := ctx.Value(profileKey{}).(*Profile)
	return p
}

func (p *Profile) add(t CheckTime) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.checks = append(p.checks, t)
}

// Checks returns the recorded checks, slowest first (by ID among equals).
func (p *Profile) Checks() []CheckTime {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := slices.Clone(p.checks)
	slices.SortStableFunc(out, func(a, b CheckTime) int {
		if c := cmp.Compare(b.Elapsed, a.Elapsed); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// Total is the time of every recorded check together.
func (p *Profile) Total() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var d time.Duration
	for _, c := range p.checks {
		d += c.Elapsed
	}
	return d
}
