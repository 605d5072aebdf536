package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/store"
)

// StoreFlags are --store, the history database (a SQLite file, or a
// postgres:// URL), and its retention. Every command that reads or
// writes history takes the same flag; `purser serve` will too.
type StoreFlags struct {
	Target   string
	MaxAge   string
	MaxScans int

	// flags tells which of the flags the command line gave.
	flags interface{ Changed(string) bool }
}

// addStoreFlag registers --store alone, for commands that only read.
func (f *StoreFlags) addStoreFlag(cmd *cobra.Command, usage string) {
	cmd.Flags().StringVar(&f.Target, "store", "", usage)
	f.flags = cmd.Flags()
}

// addFlags registers --store and the retention flags, for commands that
// record scans.
func (f *StoreFlags) addFlags(cmd *cobra.Command, usage string) {
	f.addStoreFlag(cmd, usage)
	def := store.DefaultRetention()
	cmd.Flags().StringVar(&f.MaxAge, "store-max-age", formatDays(def.MaxAge),
		"with --store, drop scans, daily costs, actions and resolved findings older than this (30d, 720h; 0 keeps all)")
	cmd.Flags().IntVar(&f.MaxScans, "store-max-scans", def.MaxScans, "with --store, keep at most this many scans of a cluster, the newest (0 keeps all)")
}

func formatDays(d time.Duration) string { return strconv.Itoa(int(d/(24*time.Hour))) + "d" }

// validate checks the flags; it changes nothing.
func (f *StoreFlags) validate() error {
	if f.Target == "" {
		for _, name := range []string{"store-max-age", "store-max-scans"} {
			if f.flags != nil && f.flags.Changed(name) {
				return fmt.Errorf("--%s bounds the history --store keeps; give --store too", name)
			}
		}
		return nil
	}
	if _, err := f.retention(); err != nil {
		return err
	}
	return nil
}

func (f *StoreFlags) retention() (store.Retention, error) {
	r := store.Retention{MaxScans: f.MaxScans}
	if f.MaxScans < 0 {
		return r, fmt.Errorf("--store-max-scans %d: expected 0 (keep all) or more", f.MaxScans)
	}
	if f.MaxAge != "" {
		d, err := parseAge(f.MaxAge)
		if err != nil {
			return r, fmt.Errorf("--store-max-age: %w", err)
		}
		r.MaxAge = d
	}
	return r, nil
}

// parseAge reads a duration in days (7d), weeks (2w) or Go's units
// (36h); "0" is zero.
func parseAge(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("%q: expected a number of days or weeks such as 7d or 2w, or a duration such as 36h", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: expected a number of days or weeks such as 7d or 2w, or a duration such as 36h", s)
	}
	return d, nil
}

func (f *StoreFlags) open(ctx context.Context) (*store.Store, error) {
	return store.Open(ctx, f.Target)
}

// clusterName names a snapshot's cluster, for the scans history files
// under it and for reports of manifests laid over it: the kubeconfig
// context of a live cluster, else where the snapshot came from ("demo", a
// file's path).
func clusterName(s *snapshot.Snapshot) string {
	if s.Meta.Context != "" {
		return s.Meta.Context
	}
	return s.Meta.Source
}

// captureScan is the scan of an environment as history keeps it: the
// audit result given, and the cost by history's groupings. A cluster
// that cannot be priced is still scanned; errs says why it has no cost.
func captureScan(ctx context.Context, env *action.Env, res *audit.Result) (history.Scan, []string, error) {
	var errs []string
	c, err := action.Cost{GroupBy: history.CostGroupings()}.Run(ctx, env)
	if err != nil {
		if ctx.Err() != nil {
			return history.Scan{}, nil, ctx.Err()
		}
		errs = append(errs, "cost: "+err.Error())
		return history.Capture(res, env.Index, nil), errs, nil
	}
	return history.Capture(res, env.Index, c.Result), errs, nil
}

// record writes a scan and prunes what the retention no longer keeps.
func (f *StoreFlags) record(ctx context.Context, st *store.Store, env *action.Env, scope string, scan history.Scan, errs []string) (*store.Recorded, error) {
	now := env.Clock.Now()
	started := now
	// A live snapshot's time is when its collection began: the scan
	// lasted from then.
	if at := env.Snapshot.Meta.CollectedAt; strings.HasPrefix(env.Snapshot.Meta.Source, "live:") && !at.IsZero() && at.Before(now) {
		started = at
	}
	digest, err := snapshot.Digest(env.Snapshot)
	if err != nil {
		return nil, err
	}
	errs = append(errs, env.Warnings...)
	rec, err := st.Record(ctx, store.ScanRecord{Cluster: clusterName(env.Snapshot), Scope: scope, SnapshotDigest: digest,
		Started: started, Finished: now, Errors: errs, Scan: scan})
	if err != nil {
		return nil, err
	}
	keep, _ := f.retention()
	if _, err := st.Prune(ctx, keep, now); err != nil {
		return nil, err
	}
	return rec, nil
}
