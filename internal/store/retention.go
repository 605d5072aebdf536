package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Retention bounds how much history a database keeps; zero fields keep
// everything in their dimension.
type Retention struct {
	// MaxAge drops scans, daily costs, actions and resolved findings
	// older than it. Open findings are kept whatever their age: they
	// are the present.
	MaxAge time.Duration `json:"maxAge,omitempty"`
	// MaxScans keeps the newest scans of each cluster and drops the
	// rest: the size of the history, which grows with scans (each holds
	// its findings' sightings, costs and objects). Findings, daily costs
	// and actions are kept; a finding stays, with its first-seen time,
	// while it is open.
	MaxScans int `json:"maxScans,omitempty"`
}

// DefaultRetention keeps 400 days (a year and a month-on-month view of
// the last one) and at most 5,000 scans a cluster (a scan an hour for
// about seven months).
func DefaultRetention() Retention { return Retention{MaxAge: 400 * 24 * time.Hour, MaxScans: 5000} }

// Pruned counts what a Prune removed.
type Pruned struct {
	Scans    int64 `json:"scans"`
	Findings int64 `json:"findings"`
	Days     int64 `json:"days"`
	Actions  int64 `json:"actions"`
}

// Prune removes what r no longer keeps, as of now, in one transaction.
func (s *Store) Prune(ctx context.Context, r Retention, now time.Time) (Pruned, error) {
	var p Pruned
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		exec := func(n *int64, what, query string, args ...any) error {
			res, err := tx.ExecContext(ctx, s.q(query), args...)
			if err != nil {
				return fmt.Errorf("pruning %s: %w", what, err)
			}
			c, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("pruning %s: %w", what, err)
			}
			if n != nil {
				*n += c
			}
			return nil
		}
		if r.MaxAge > 0 {
			cut := millis(now.Add(-r.MaxAge))
			if err := s.dropScans(exec, &p, "started_at < ?", cut); err != nil {
				return err
			}
			if err := exec(&p.Days, "daily costs", "DELETE FROM cost_daily WHERE day < ?", Day(now.Add(-r.MaxAge))); err != nil {
				return err
			}
			if err := exec(&p.Actions, "actions", "DELETE FROM actions WHERE at < ?", cut); err != nil {
				return err
			}
		}
		if r.MaxScans > 0 {
			if err := s.dropOldScans(ctx, tx, exec, &p, r.MaxScans); err != nil {
				return err
			}
		}
		// Resolved findings that no kept scan saw are gone with their scans.
		return exec(&p.Findings, "findings", `DELETE FROM findings WHERE resolved_at IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM scan_findings sf WHERE sf.finding_id = findings.id)`)
	})
	if err != nil {
		return Pruned{}, fmt.Errorf("history database %s: %w", s.where, err)
	}
	return p, nil
}

// dropScans deletes the scans cond selects with what hangs on them;
// the cascades are spelled out so that a SQLite opened without foreign
// keys enforced (by another tool) is pruned the same.
func (s *Store) dropScans(exec func(*int64, string, string, ...any) error, p *Pruned, cond string, args ...any) error {
	sel := "SELECT id FROM scans WHERE " + cond
	if err := exec(nil, "scan findings", "DELETE FROM scan_findings WHERE scan_id IN ("+sel+")", args...); err != nil {
		return err
	}
	if err := exec(nil, "scan costs", "DELETE FROM scan_costs WHERE scan_id IN ("+sel+")", args...); err != nil {
		return err
	}
	return exec(&p.Scans, "scans", "DELETE FROM scans WHERE "+cond, args...)
}

// dropOldScans keeps the newest max scans of each cluster. It finds the
// newest scan to drop with the (cluster, started_at) index and drops it
// and everything older: one query a cluster, where counting the newer
// scans of every scan would cost the square of their number.
func (s *Store) dropOldScans(ctx context.Context, tx *sql.Tx, exec func(*int64, string, string, ...any) error, p *Pruned, max int) error {
	rows, err := tx.QueryContext(ctx, "SELECT name FROM clusters ORDER BY name")
	if err != nil {
		return fmt.Errorf("pruning scans: %w", err)
	}
	var clusters []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return fmt.Errorf("pruning scans: %w", err)
		}
		clusters = append(clusters, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pruning scans: %w", err)
	}
	for _, c := range clusters {
		var started, id int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT started_at, id FROM scans WHERE cluster = ?
			ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?`), c, max).Scan(&started, &id)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("pruning the scans of %q: %w", c, err)
		}
		if err := s.dropScans(exec, p, "cluster = ? AND (started_at < ? OR (started_at = ? AND id <= ?))", c, started, started, id); err != nil {
			return err
		}
	}
	return nil
}
