package server

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/purserhq/purser/internal/downscale"
	"github.com/purserhq/purser/internal/downscale/engine"
)

type countingDownscaler struct {
	runs atomic.Int32
	err  error
}

func (c *countingDownscaler) Run(context.Context) (*engine.Plan, *downscale.Report, error) {
	c.runs.Add(1)
	return &engine.Plan{}, &downscale.Report{Records: []downscale.Record{{Action: "sleep", Outcome: downscale.Done}}}, c.err
}

// The schedules run only on the replica that leads, and a failed run is
// reported, not fatal.
func TestDownscaleTick(t *testing.T) {
	t.Parallel()
	s, _ := demoServer(t, &hook{})
	if ran, err := s.DownscaleTick(t.Context()); ran || err != nil {
		t.Errorf("without a downscaler: ran %v, %v", ran, err)
	}
	d := &countingDownscaler{}
	leading := false
	s.opts.Downscale = d
	s.opts.Leading = func() bool { return leading }
	if ran, _ := s.DownscaleTick(t.Context()); ran || d.runs.Load() != 0 {
		t.Error("a replica that does not lead ran the schedules")
	}
	leading = true
	if ran, err := s.DownscaleTick(t.Context()); !ran || err != nil || d.runs.Load() != 1 {
		t.Errorf("leading: ran %v, %v, %d runs", ran, err, d.runs.Load())
	}
	d.err = errors.New("Deployment/dev/web: annotation purser.dev/downscale-schedule: bad")
	if _, err := s.DownscaleTick(t.Context()); err == nil || d.runs.Load() != 2 {
		t.Errorf("failing run: %v, %d runs", err, d.runs.Load())
	}
}
