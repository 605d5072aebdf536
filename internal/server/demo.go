package server

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/store"
)

// DemoDays is how many days of history RecordDemoHistory makes up.
const DemoDays = 14

// RecordDemoHistory records, for a first look at `purser serve --demo`,
// one scan a day over the DemoDays days before now, made from the
// embedded demo's own scan: each finding appears on a day of its own
// (from its identity, so the history is the same on every run) and stays,
// so the dashboard and the API show findings first seen on different
// days, a growing count and daily costs. It returns the cluster name.
// A store that holds scans already is left alone.
func RecordDemoHistory(ctx context.Context, st *store.Store, now time.Time) (string, error) {
	env, err := action.Demo(ctx)
	if err != nil {
		return "", err
	}
	cluster := env.Snapshot.Meta.Source
	if have, err := st.Scans(ctx, cluster, 1); err != nil || len(have) > 0 {
		return cluster, err
	}
	res, err := action.Audit{}.Run(ctx, env)
	if err != nil {
		return "", err
	}
	c, err := action.Cost{GroupBy: history.CostGroupings()}.Run(ctx, env)
	if err != nil {
		return "", err
	}
	full := history.Capture(res, env.Index, c.Result)
	digest, err := snapshot.Digest(env.Snapshot)
	if err != nil {
		return "", err
	}
	for day := DemoDays; day >= 1; day-- {
		scan := full
		scan.Findings = nil
		for _, f := range full.Findings {
			if appearsOn(f.Key) >= day {
				scan.Findings = append(scan.Findings, f)
			}
		}
		at := now.Add(-time.Duration(day) * 24 * time.Hour)
		if _, err := st.Record(ctx, store.ScanRecord{Cluster: cluster, SnapshotDigest: digest, Started: at, Finished: at.Add(time.Second), Scan: scan}); err != nil {
			return "", fmt.Errorf("recording the demo's history: %w", err)
		}
	}
	return cluster, nil
}

// appearsOn is how many days ago a finding first shows in the made-up
// history: between 1 and DemoDays, from its key.
func appearsOn(key string) int {
	h := sha256.Sum256([]byte(key))
	return 1 + int(binary.BigEndian.Uint32(h[:4])%DemoDays)
}
