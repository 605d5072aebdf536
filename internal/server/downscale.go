package server

import (
	"context"
	"time"

	"github.com/purserhq/purser/internal/downscale"
	"github.com/purserhq/purser/internal/downscale/engine"
)

// DownscaleInterval is how often serve runs the downscale schedules: a
// window starts or ends on a minute, and a run that finds nothing to do
// costs a handful of LISTs.
const DownscaleInterval = time.Minute

// Downscaler runs the night scale-down schedules once (*downscale.Runner).
type Downscaler interface {
	Run(ctx context.Context) (*engine.Plan, *downscale.Report, error)
}

// downscaleLoop runs the schedules at once, then every minute, while this
// replica leads: two replicas acting at once would only conflict on
// resourceVersions, but one log of actions is easier to read.
func (s *Server) downscaleLoop(ctx context.Context) {
	if s.opts.Downscale == nil {
		return
	}
	t := s.clock.NewTicker(DownscaleInterval)
	defer t.Stop()
	for {
		_, _ = s.DownscaleTick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// DownscaleTick runs the schedules once when this replica leads, and
// reports whether it ran. A failure (a malformed annotation, an object
// that could not be updated) is logged; the next minute tries again.
func (s *Server) DownscaleTick(ctx context.Context) (bool, error) {
	if s.opts.Downscale == nil || !s.leading() {
		return false, nil
	}
	_, rep, err := s.opts.Downscale.Run(ctx)
	if rep != nil {
		for _, r := range rep.Records {
			if r.Outcome != downscale.Unchanged {
				s.log.Info("downscale", "action", r.Action, "object", r.Object.String(), "outcome", r.Outcome, "reason", r.Reason)
			}
		}
	}
	if err != nil {
		s.log.Warn("downscale run", "error", err)
	}
	return true, err
}
