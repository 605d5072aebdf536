package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/store"
)

// BenchmarkRecordDemo records the demo's scan (124 findings, its costs
// and objects) over and over, as a server scanning it would.
func BenchmarkRecordDemo(b *testing.B) {
	ctx := context.Background()
	env, err := action.Demo(ctx)
	if err != nil {
		b.Fatal(err)
	}
	res, err := action.Audit{}.Run(ctx, env)
	if err != nil {
		b.Fatal(err)
	}
	c, err := action.Cost{GroupBy: history.CostGroupings()}.Run(ctx, env)
	if err != nil {
		b.Fatal(err)
	}
	scan := history.Capture(res, env.Index, c.Result)
	targets := map[string]func() string{"sqlite": func() string { return filepath.Join(b.TempDir(), "h.db") }}
	if pg != nil {
		targets["postgres"] = func() string { return pg.Database(b) }
	}
	for name, target := range targets {
		b.Run(name, func(b *testing.B) {
			s, err := store.Open(ctx, target())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			for i := 0; b.Loop(); i++ {
				if _, err := s.Record(ctx, store.ScanRecord{Cluster: "demo", Started: at.Add(time.Duration(i) * time.Minute), Scan: scan}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
