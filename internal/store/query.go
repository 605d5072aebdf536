package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/history"
)

// ErrNotFound is returned for a scan the database does not hold.
var ErrNotFound = errors.New("not found")

// ScanInfo describes a recorded scan.
type ScanInfo struct {
	ID             int64     `json:"id"`
	Cluster        string    `json:"cluster"`
	Source         string    `json:"source"`
	Scope          string    `json:"scope,omitempty"`
	SnapshotDigest string    `json:"snapshotDigest"`
	CollectedAt    time.Time `json:"collectedAt,omitzero"`
	Started        time.Time `json:"started"`
	Finished       time.Time `json:"finished"`
	Duration       string    `json:"duration"`
	Errors         []string  `json:"errors,omitempty"`
	Findings       int       `json:"findings"`
	// Complete is true when every check the scan asked for ran on every
	// kind it reads.
	Complete bool `json:"complete"`
}

const scanColumns = "id, cluster, source, scope, snapshot_digest, collected_at, started_at, finished_at, errors, checks, findings"

func scanInfo(row interface{ Scan(...any) error }) (ScanInfo, map[string]string, error) {
	var si ScanInfo
	var collected, started, finished int64
	var errs, checks string
	if err := row.Scan(&si.ID, &si.Cluster, &si.Source, &si.Scope, &si.SnapshotDigest, &collected, &started, &finished, &errs, &checks, &si.Findings); err != nil {
		return si, nil, err
	}
	si.CollectedAt, si.Started, si.Finished = fromMillis(collected), fromMillis(started), fromMillis(finished)
	si.Duration = si.Finished.Sub(si.Started).String()
	if err := json.Unmarshal([]byte(errs), &si.Errors); err != nil {
		return si, nil, fmt.Errorf("scan %d: errors: %w", si.ID, err)
	}
	st := map[string]string{}
	if err := json.Unmarshal([]byte(checks), &st); err != nil {
		return si, nil, fmt.Errorf("scan %d: checks: %w", si.ID, err)
	}
	si.Complete = true
	for _, v := range st {
		if v != audit.StatusOK {
			si.Complete = false
		}
	}
	return si, st, nil
}

// Scans lists a cluster's scans, newest first; limit 0 lists them all.
// An empty cluster lists every cluster's.
func (s *Store) Scans(ctx context.Context, cluster string, limit int) ([]ScanInfo, error) {
	query := "SELECT " + scanColumns + " FROM scans"
	var args []any
	if cluster != "" {
		query += " WHERE cluster = ?"
		args = append(args, cluster)
	}
	query += " ORDER BY started_at DESC, id DESC"
	if limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("history database %s: listing scans: %w", s.where, err)
	}
	defer rows.Close()
	out := []ScanInfo{}
	for rows.Next() {
		si, _, err := scanInfo(rows)
		if err != nil {
			return nil, fmt.Errorf("history database %s: listing scans: %w", s.where, err)
		}
		out = append(out, si)
	}
	return out, rows.Err()
}

// Latest returns the newest scan of cluster.
func (s *Store) Latest(ctx context.Context, cluster string) (ScanInfo, error) {
	scans, err := s.Scans(ctx, cluster, 1)
	if err != nil {
		return ScanInfo{}, err
	}
	if len(scans) == 0 {
		return ScanInfo{}, fmt.Errorf("history database %s: no scan of %q: %w", s.where, cluster, ErrNotFound)
	}
	return scans[0], nil
}

// Scan returns a recorded scan as history compares it: its findings as
// that scan saw them, its checks, costs and objects.
func (s *Store) Scan(ctx context.Context, id int64) (ScanInfo, history.Scan, error) {
	si, checks, err := scanInfo(s.db.QueryRowContext(ctx, s.q("SELECT "+scanColumns+" FROM scans WHERE id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return si, history.Scan{}, fmt.Errorf("history database %s: scan %d: %w", s.where, id, ErrNotFound)
	}
	if err != nil {
		return si, history.Scan{}, fmt.Errorf("history database %s: scan %d: %w", s.where, id, err)
	}
	var objects, currency string
	if err := s.db.QueryRowContext(ctx, s.q("SELECT objects, currency FROM scans WHERE id = ?"), id).Scan(&objects, &currency); err != nil {
		return si, history.Scan{}, fmt.Errorf("history database %s: scan %d: %w", s.where, id, err)
	}
	h := history.Scan{Source: si.Source, CollectedAt: si.CollectedAt, Checks: checks, Currency: currency}
	if err := json.Unmarshal([]byte(objects), &h.Objects); err != nil {
		return si, h, fmt.Errorf("history database %s: scan %d: objects: %w", s.where, id, err)
	}
	if h.Findings, err = s.scanFindings(ctx, id); err != nil {
		return si, h, err
	}
	rows, err := s.db.QueryContext(ctx, s.q("SELECT grouping, group_key, currency, monthly FROM scan_costs WHERE scan_id = ? ORDER BY grouping, group_key"), id)
	if err != nil {
		return si, h, fmt.Errorf("history database %s: scan %d: costs: %w", s.where, id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var g history.GroupCost
		if err := rows.Scan(&g.By, &g.Key, &g.Monthly.Currency, &g.Monthly.Micros); err != nil {
			return si, h, fmt.Errorf("history database %s: scan %d: costs: %w", s.where, id, err)
		}
		h.Cost = append(h.Cost, g)
	}
	return si, h, rows.Err()
}

func (s *Store) scanFindings(ctx context.Context, id int64) ([]history.Finding, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT f.fingerprint, f.check_id, f.workload_kind, f.workload_namespace, f.workload_name,
		sf.severity, sf.object_kind, sf.object_namespace, sf.object_name, sf.message
		FROM scan_findings sf JOIN findings f ON f.id = sf.finding_id WHERE sf.scan_id = ?`), id)
	if err != nil {
		return nil, fmt.Errorf("history database %s: scan %d: findings: %w", s.where, id, err)
	}
	defer rows.Close()
	out := []history.Finding{}
	for rows.Next() {
		var f history.Finding
		var sev string
		if err := rows.Scan(&f.Key, &f.Check, &f.Workload.Kind, &f.Workload.Namespace, &f.Workload.Name,
			&sev, &f.Object.Kind, &f.Object.Namespace, &f.Object.Name, &f.Message); err != nil {
			return nil, fmt.Errorf("history database %s: scan %d: findings: %w", s.where, id, err)
		}
		if f.Severity, err = audit.ParseSeverity(sev); err != nil {
			return nil, fmt.Errorf("history database %s: scan %d: finding %s: %w", s.where, id, f.Check, err)
		}
		out = append(out, f)
	}
	history.SortFindings(out)
	return out, rows.Err()
}

// Finding is a finding as history knows it: its latest sighting and when
// it was first and last seen, and resolved.
type Finding struct {
	history.Finding
	ID        int64     `json:"id"`
	Cluster   string    `json:"cluster"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
	// Resolved is zero while the finding is open.
	Resolved time.Time `json:"resolved,omitzero"`
}

// Open reports whether the finding is not resolved.
func (f Finding) Open() bool { return f.Resolved.IsZero() }

// FindingFilter narrows Findings; zero fields do not narrow.
type FindingFilter struct {
	Cluster   string
	Check     string
	Namespace string
	// State is "open", "resolved" or "" for both.
	State string
	// Since keeps the findings first seen or resolved at or after it.
	Since       time.Time
	MinSeverity audit.Severity
}

// Findings lists the findings the filter selects, most serious first.
func (s *Store) Findings(ctx context.Context, ff FindingFilter) ([]Finding, error) {
	var where []string
	var args []any
	add := func(cond string, arg ...any) {
		where = append(where, cond)
		args = append(args, arg...)
	}
	if ff.Cluster != "" {
		add("cluster = ?", ff.Cluster)
	}
	if ff.Check != "" {
		add("check_id = ?", ff.Check)
	}
	if ff.Namespace != "" {
		add("workload_namespace = ?", ff.Namespace)
	}
	switch ff.State {
	case "open":
		add("resolved_at IS NULL")
	case "resolved":
		add("resolved_at IS NOT NULL")
	case "":
	default:
		return nil, fmt.Errorf("finding state %q: expected open or resolved", ff.State)
	}
	if !ff.Since.IsZero() {
		add("(first_seen >= ? OR resolved_at >= ?)", millis(ff.Since), millis(ff.Since))
	}
	query := `SELECT id, cluster, fingerprint, check_id, workload_kind, workload_namespace, workload_name,
		object_kind, object_namespace, object_name, severity, message, first_seen, last_seen, resolved_at FROM findings`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("history database %s: listing findings: %w", s.where, err)
	}
	defer rows.Close()
	out := []Finding{}
	for rows.Next() {
		var f Finding
		var sev string
		var first, last int64
		var resolved sql.NullInt64
		if err := rows.Scan(&f.ID, &f.Cluster, &f.Key, &f.Check, &f.Workload.Kind, &f.Workload.Namespace, &f.Workload.Name,
			&f.Object.Kind, &f.Object.Namespace, &f.Object.Name, &sev, &f.Message, &first, &last, &resolved); err != nil {
			return nil, fmt.Errorf("history database %s: listing findings: %w", s.where, err)
		}
		if f.Severity, err = audit.ParseSeverity(sev); err != nil {
			return nil, fmt.Errorf("history database %s: finding %d: %w", s.where, f.ID, err)
		}
		if f.Severity < ff.MinSeverity {
			continue
		}
		f.FirstSeen, f.LastSeen = fromMillis(first), fromMillis(last)
		if resolved.Valid {
			f.Resolved = fromMillis(resolved.Int64)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sortStored(out)
	return out, nil
}

// sortStored sorts as history does, and a finding that recurred by
// its occurrences' order.
func sortStored(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		if c := history.CompareFindings(a.Finding, b.Finding); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// DailyCosts lists a cluster's daily costs from day from to day to
// (inclusive, "2026-03-01"), by day, grouping and key.
func (s *Store) DailyCosts(ctx context.Context, cluster, from, to string) ([]history.DayCost, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT day, grouping, group_key, currency, amount FROM cost_daily
		WHERE cluster = ? AND day >= ? AND day <= ? ORDER BY day, grouping, group_key`), cluster, from, to)
	if err != nil {
		return nil, fmt.Errorf("history database %s: daily costs of %q: %w", s.where, cluster, err)
	}
	defer rows.Close()
	out := []history.DayCost{}
	for rows.Next() {
		var d history.DayCost
		if err := rows.Scan(&d.Day, &d.By, &d.Key, &d.Amount.Currency, &d.Amount.Micros); err != nil {
			return nil, fmt.Errorf("history database %s: daily costs of %q: %w", s.where, cluster, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
