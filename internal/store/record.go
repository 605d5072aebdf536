package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/money"
)

// ScanRecord is one scan to record: what history.Capture made of a run,
// and the facts of the run itself.
type ScanRecord struct {
	// Cluster identifies the cluster: a kubeconfig context, or the
	// source of a file. Findings are followed per cluster.
	Cluster string
	// Scope is the namespace the findings were narrowed to; empty for
	// the whole cluster. A narrowed scan resolves only findings of its
	// namespace, and records no cost (a namespace's is not the cluster's).
	Scope          string
	SnapshotDigest string
	Started        time.Time
	Finished       time.Time
	// Errors are what the run could only do in part (kinds not read,
	// prices not found); a scan with errors is still recorded.
	Errors []string
	Scan   history.Scan
}

// Recorded is what recording a scan changed.
type Recorded struct {
	ID int64 `json:"id"`
	// New are findings first seen in this scan; Resolved are findings
	// this scan no longer saw, with their check run completely.
	New      []history.Finding `json:"new"`
	Resolved []history.Finding `json:"resolved"`
}

type openFinding struct {
	id int64
	f  history.Finding
}

// Record writes a scan in one transaction: the scan, each finding's
// sighting (a known open finding is updated, an unknown one inserted as
// new), the findings it resolves, its costs and the day's cost. A
// finding absent from the scan is resolved only when its check ran
// completely (status ok): an incomplete or skipped check, or one not
// asked for, says nothing about it. A resolved finding seen again is a
// new finding, with its own first-seen time.
func (s *Store) Record(ctx context.Context, r ScanRecord) (*Recorded, error) {
	if r.Cluster == "" {
		return nil, errors.New("recording a scan: no cluster name")
	}
	if r.Started.IsZero() {
		return nil, errors.New("recording a scan: no start time")
	}
	if r.Finished.Before(r.Started) {
		r.Finished = r.Started
	}
	out := &Recorded{New: []history.Finding{}, Resolved: []history.Finding{}}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockCluster(ctx, tx, r.Cluster); err != nil {
			return err
		}
		id, err := s.insertScan(ctx, tx, r)
		if err != nil {
			return err
		}
		out.ID = id
		open, err := s.openFindings(ctx, tx, r.Cluster)
		if err != nil {
			return err
		}
		at := millis(r.Started)
		seen := map[string]bool{}
		for _, f := range r.Scan.Findings {
			seen[f.Key] = true
			fid, err := s.sight(ctx, tx, r.Cluster, id, at, f, open)
			if err != nil {
				return err
			}
			if _, known := open[f.Key]; !known {
				out.New = append(out.New, f)
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO scan_findings
				(scan_id, finding_id, severity, object_kind, object_namespace, object_name, message) VALUES (?, ?, ?, ?, ?, ?, ?)`),
				id, fid, f.Severity.String(), f.Object.Kind, f.Object.Namespace, f.Object.Name, f.Message); err != nil {
				return fmt.Errorf("recording finding %s on %s: %w", f.Check, f.Object, err)
			}
		}
		for key, o := range open {
			if seen[key] || r.Scan.Checks[o.f.Check] != audit.StatusOK {
				continue
			}
			if r.Scope != "" && o.f.Workload.Namespace != r.Scope {
				continue
			}
			if _, err := tx.ExecContext(ctx, s.q("UPDATE findings SET resolved_at = ?, resolved_scan = ? WHERE id = ?"), at, id, o.id); err != nil {
				return fmt.Errorf("resolving finding %s on %s: %w", o.f.Check, o.f.Workload, err)
			}
			out.Resolved = append(out.Resolved, o.f)
		}
		if r.Scope == "" && len(r.Scan.Cost) > 0 {
			return s.insertCosts(ctx, tx, r, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("history database %s: %w", s.where, err)
	}
	history.SortFindings(out.New)
	history.SortFindings(out.Resolved)
	return out, nil
}

func (s *Store) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// lockCluster makes writers of one cluster take turns until commit:
// each reads the open findings and decides what is new and resolved from
// them, which two writers interleaving would get wrong.
func (s *Store) lockCluster(ctx context.Context, tx *sql.Tx, cluster string) error {
	if _, err := tx.ExecContext(ctx, s.q("INSERT INTO clusters (name, scans) VALUES (?, 0) ON CONFLICT (name) DO NOTHING"), cluster); err != nil {
		return fmt.Errorf("cluster %q: %w", cluster, err)
	}
	if _, err := tx.ExecContext(ctx, s.q("UPDATE clusters SET scans = scans + 1 WHERE name = ?"), cluster); err != nil {
		return fmt.Errorf("cluster %q: %w", cluster, err)
	}
	return nil
}

func (s *Store) insertScan(ctx context.Context, tx *sql.Tx, r ScanRecord) (int64, error) {
	errs, err := json.Marshal(nonNil(r.Errors))
	if err != nil {
		return 0, err
	}
	checks, err := json.Marshal(r.Scan.Checks)
	if err != nil {
		return 0, err
	}
	objects, err := json.Marshal(r.Scan.Objects)
	if err != nil {
		return 0, err
	}
	var id int64
	err = tx.QueryRowContext(ctx, s.q(`INSERT INTO scans
		(cluster, source, scope, snapshot_digest, collected_at, started_at, finished_at, errors, checks, objects, currency, findings)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		r.Cluster, r.Scan.Source, r.Scope, r.SnapshotDigest, millis(r.Scan.CollectedAt), millis(r.Started), millis(r.Finished),
		string(errs), string(checks), string(objects), r.Scan.Currency, len(r.Scan.Findings)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("recording the scan of %q: %w", r.Cluster, err)
	}
	return id, nil
}

func (s *Store) openFindings(ctx context.Context, tx *sql.Tx, cluster string) (map[string]openFinding, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT id, fingerprint, check_id, workload_kind, workload_namespace, workload_name
		FROM findings WHERE cluster = ? AND resolved_at IS NULL`), cluster)
	if err != nil {
		return nil, fmt.Errorf("reading the open findings of %q: %w", cluster, err)
	}
	defer rows.Close()
	out := map[string]openFinding{}
	for rows.Next() {
		var o openFinding
		if err := rows.Scan(&o.id, &o.f.Key, &o.f.Check, &o.f.Workload.Kind, &o.f.Workload.Namespace, &o.f.Workload.Name); err != nil {
			return nil, fmt.Errorf("reading the open findings of %q: %w", cluster, err)
		}
		out[o.f.Key] = o
	}
	return out, rows.Err()
}

// sight records one sighting of f: the open finding of its key takes
// the sighting's severity, message and object; else a new one starts.
func (s *Store) sight(ctx context.Context, tx *sql.Tx, cluster string, scan, at int64, f history.Finding, open map[string]openFinding) (int64, error) {
	if o, ok := open[f.Key]; ok {
		_, err := tx.ExecContext(ctx, s.q(`UPDATE findings SET severity = ?, message = ?, object_kind = ?, object_namespace = ?, object_name = ?,
			last_seen = ?, last_scan = ? WHERE id = ?`),
			f.Severity.String(), f.Message, f.Object.Kind, f.Object.Namespace, f.Object.Name, at, scan, o.id)
		if err != nil {
			return 0, fmt.Errorf("updating finding %s on %s: %w", f.Check, f.Workload, err)
		}
		return o.id, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, s.q(`INSERT INTO findings (cluster, fingerprint, check_id, workload_kind, workload_namespace, workload_name,
		object_kind, object_namespace, object_name, severity, message, first_seen, last_seen, first_scan, last_scan)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		cluster, f.Key, f.Check, f.Workload.Kind, f.Workload.Namespace, f.Workload.Name,
		f.Object.Kind, f.Object.Namespace, f.Object.Name, f.Severity.String(), f.Message, at, at, scan, scan).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("recording finding %s on %s: %w", f.Check, f.Workload, err)
	}
	return id, nil
}

// insertCosts records the scan's monthly costs by group and, as the
// day's latest figure, the day's share of them: a day is 24 of the 730
// hours of an average month (8,760 hours a year over 12).
func (s *Store) insertCosts(ctx context.Context, tx *sql.Tx, r ScanRecord, scan int64) error {
	day := Day(r.Started)
	if _, err := tx.ExecContext(ctx, s.q("DELETE FROM cost_daily WHERE cluster = ? AND day = ?"), r.Cluster, day); err != nil {
		return fmt.Errorf("replacing the cost of %s: %w", day, err)
	}
	for _, c := range r.Scan.Cost {
		if c.Monthly.Currency != r.Scan.Currency && c.Monthly.Micros != 0 {
			return fmt.Errorf("cost of %s %s: %w: %s in a scan priced in %s", c.By, c.Key, money.ErrCurrencyMismatch, c.Monthly.Currency, r.Scan.Currency)
		}
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO scan_costs (scan_id, grouping, group_key, currency, monthly) VALUES (?, ?, ?, ?, ?)"),
			scan, c.By, c.Key, r.Scan.Currency, c.Monthly.Micros); err != nil {
			return fmt.Errorf("recording the cost of %s %s: %w", c.By, c.Key, err)
		}
		daily, err := DailyOf(c.Monthly)
		if err != nil {
			return fmt.Errorf("cost of %s %s: %w", c.By, c.Key, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO cost_daily (cluster, day, grouping, group_key, currency, amount, scan_id)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), r.Cluster, day, c.By, c.Key, r.Scan.Currency, daily.Micros, scan); err != nil {
			return fmt.Errorf("recording the cost of %s %s on %s: %w", c.By, c.Key, day, err)
		}
	}
	return nil
}

// HoursPerMonth is the average month the daily cost is a share of.
const HoursPerMonth = 730

// DailyOf is a day's share of a monthly amount.
func DailyOf(monthly money.Amount) (money.Amount, error) { return monthly.MulRat(24, HoursPerMonth) }

// Day is t's UTC date as the store keys days: 2026-03-01.
func Day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
