package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/snapshot"
)

// The queries of the dashboard: what its trends and history pages read,
// counted and joined in the database rather than by loading each scan
// whole (its object list grows with the cluster).

// ScanTrend is one scan as a trend shows it.
type ScanTrend struct {
	ScanInfo
	// BySeverity counts the scan's findings by severity.
	BySeverity map[audit.Severity]int `json:"bySeverity"`
	// Monthly is the scan's monthly cost, the sum of its pool breakdown
	// (which covers every node and line item); zero, with no currency,
	// when the scan priced nothing.
	Monthly money.Amount `json:"monthly,omitzero"`
}

// latestScans selects the ids of a cluster's newest scans; limit 0
// selects them all.
func latestScans(limit int) string {
	q := "SELECT id FROM scans WHERE cluster = ? ORDER BY started_at DESC, id DESC"
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	return q
}

// Trends lists a cluster's newest scans (limit 0: all), newest first,
// with their findings by severity and their monthly cost.
func (s *Store) Trends(ctx context.Context, cluster string, limit int) ([]ScanTrend, error) {
	scans, err := s.Scans(ctx, cluster, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ScanTrend, len(scans))
	at := map[int64]*ScanTrend{}
	for i, si := range scans {
		out[i] = ScanTrend{ScanInfo: si, BySeverity: map[audit.Severity]int{}}
		at[si.ID] = &out[i]
	}
	if len(scans) == 0 {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT scan_id, severity, COUNT(*) FROM scan_findings
		WHERE scan_id IN (`+latestScans(limit)+`) GROUP BY scan_id, severity`), cluster)
	if err != nil {
		return nil, fmt.Errorf("history database %s: finding trends of %q: %w", s.where, cluster, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		var sev string
		if err := rows.Scan(&id, &sev, &n); err != nil {
			return nil, fmt.Errorf("history database %s: finding trends of %q: %w", s.where, cluster, err)
		}
		v, err := audit.ParseSeverity(sev)
		if err != nil {
			return nil, fmt.Errorf("history database %s: scan %d: %w", s.where, id, err)
		}
		if t := at[id]; t != nil {
			t.BySeverity[v] += int(n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history database %s: finding trends of %q: %w", s.where, cluster, err)
	}
	rows.Close()
	// Summed here, not by SUM(): money adds with its currency checked
	// and overflow an error, and the two databases type SUM differently.
	costs, err := s.db.QueryContext(ctx, s.q(`SELECT scan_id, group_key, currency, monthly FROM scan_costs
		WHERE grouping = 'pool' AND scan_id IN (`+latestScans(limit)+`)`), cluster)
	if err != nil {
		return nil, fmt.Errorf("history database %s: cost trends of %q: %w", s.where, cluster, err)
	}
	defer costs.Close()
	for costs.Next() {
		var id int64
		var key string
		var a money.Amount
		if err := costs.Scan(&id, &key, &a.Currency, &a.Micros); err != nil {
			return nil, fmt.Errorf("history database %s: cost trends of %q: %w", s.where, cluster, err)
		}
		t := at[id]
		if t == nil {
			continue
		}
		if t.Monthly.Currency == "" {
			t.Monthly.Currency = a.Currency
		}
		if t.Monthly, err = t.Monthly.Add(a); err != nil {
			return nil, fmt.Errorf("history database %s: scan %d: cost of pool %s: %w", s.where, id, key, err)
		}
	}
	if err := costs.Err(); err != nil {
		return nil, fmt.Errorf("history database %s: cost trends of %q: %w", s.where, cluster, err)
	}
	return out, nil
}

// ScanChanges are the findings a scan opened (first seen in it) and
// those it resolved.
type ScanChanges struct {
	New      []Finding `json:"new"`
	Resolved []Finding `json:"resolved"`
}

const storedColumns = `id, cluster, fingerprint, check_id, workload_kind, workload_namespace, workload_name,
	object_kind, object_namespace, object_name, severity, message, first_seen, last_seen, resolved_at`

func (s *Store) storedFinding(row interface{ Scan(...any) error }, extra ...any) (Finding, error) {
	var f Finding
	var sev string
	var first, last int64
	var resolved sql.NullInt64
	dest := append([]any{&f.ID, &f.Cluster, &f.Key, &f.Check, &f.Workload.Kind, &f.Workload.Namespace, &f.Workload.Name,
		&f.Object.Kind, &f.Object.Namespace, &f.Object.Name, &sev, &f.Message, &first, &last, &resolved}, extra...)
	if err := row.Scan(dest...); err != nil {
		return f, err
	}
	var err error
	if f.Severity, err = audit.ParseSeverity(sev); err != nil {
		return f, fmt.Errorf("finding %d: %w", f.ID, err)
	}
	f.FirstSeen, f.LastSeen = fromMillis(first), fromMillis(last)
	if resolved.Valid {
		f.Resolved = fromMillis(resolved.Int64)
	}
	return f, nil
}

// Changes returns, for each of a cluster's newest scans (limit 0: all),
// the findings it opened and those it resolved, as Record decided them
// (a scan whose check was incomplete resolved nothing of that check's).
// Scans that changed nothing are absent.
func (s *Store) Changes(ctx context.Context, cluster string, limit int) (map[int64]*ScanChanges, error) {
	// Listed first: SQLite has one connection, which an open result
	// would hold.
	scans, err := s.Scans(ctx, cluster, limit)
	if err != nil {
		return nil, err
	}
	inWindow := map[int64]bool{}
	for _, si := range scans {
		inWindow[si.ID] = true
	}
	sub := latestScans(limit)
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+storedColumns+`, first_scan, resolved_scan FROM findings
		WHERE cluster = ? AND (first_scan IN (`+sub+`) OR resolved_scan IN (`+sub+`))`), cluster, cluster, cluster)
	if err != nil {
		return nil, fmt.Errorf("history database %s: changes of %q: %w", s.where, cluster, err)
	}
	defer rows.Close()
	out := map[int64]*ScanChanges{}
	get := func(id int64) *ScanChanges {
		if out[id] == nil {
			out[id] = &ScanChanges{New: []Finding{}, Resolved: []Finding{}}
		}
		return out[id]
	}
	for rows.Next() {
		var firstScan int64
		var resolvedScan sql.NullInt64
		f, err := s.storedFinding(rows, &firstScan, &resolvedScan)
		if err != nil {
			return nil, fmt.Errorf("history database %s: changes of %q: %w", s.where, cluster, err)
		}
		if inWindow[firstScan] {
			get(firstScan).New = append(get(firstScan).New, f)
		}
		if resolvedScan.Valid && inWindow[resolvedScan.Int64] {
			get(resolvedScan.Int64).Resolved = append(get(resolvedScan.Int64).Resolved, f)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history database %s: changes of %q: %w", s.where, cluster, err)
	}
	for _, c := range out {
		sortStored(c.New)
		sortStored(c.Resolved)
	}
	return out, nil
}

// Occurrences lists the findings of one identity (key) in a cluster,
// oldest first: a problem fixed and broken again has several.
func (s *Store) Occurrences(ctx context.Context, cluster, key string) ([]Finding, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+storedColumns+` FROM findings
		WHERE cluster = ? AND fingerprint = ? ORDER BY first_seen, id`), cluster, key)
	if err != nil {
		return nil, fmt.Errorf("history database %s: finding %s of %q: %w", s.where, key, cluster, err)
	}
	defer rows.Close()
	out := []Finding{}
	for rows.Next() {
		f, err := s.storedFinding(rows)
		if err != nil {
			return nil, fmt.Errorf("history database %s: finding %s of %q: %w", s.where, key, cluster, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Sighting is one scan's sighting of a finding.
type Sighting struct {
	Scan      int64          `json:"scan"`
	At        time.Time      `json:"at"`
	FindingID int64          `json:"findingId"`
	Severity  audit.Severity `json:"severity"`
	Object    snapshot.Ref   `json:"object"`
	Message   string         `json:"message"`
}

// Sightings lists the sightings of the findings of one identity (key)
// in a cluster's newest scans (limit 0: all), newest first.
func (s *Store) Sightings(ctx context.Context, cluster, key string, limit int) ([]Sighting, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT sf.scan_id, sc.started_at, sf.finding_id, sf.severity, sf.object_kind, sf.object_namespace, sf.object_name, sf.message
		FROM scan_findings sf JOIN findings f ON f.id = sf.finding_id JOIN scans sc ON sc.id = sf.scan_id
		WHERE f.cluster = ? AND f.fingerprint = ? AND sf.scan_id IN (`+latestScans(limit)+`)
		ORDER BY sc.started_at DESC, sc.id DESC`), cluster, key, cluster)
	if err != nil {
		return nil, fmt.Errorf("history database %s: sightings of %s in %q: %w", s.where, key, cluster, err)
	}
	defer rows.Close()
	out := []Sighting{}
	for rows.Next() {
		var sg Sighting
		var at int64
		var sev string
		if err := rows.Scan(&sg.Scan, &at, &sg.FindingID, &sev, &sg.Object.Kind, &sg.Object.Namespace, &sg.Object.Name, &sg.Message); err != nil {
			return nil, fmt.Errorf("history database %s: sightings of %s in %q: %w", s.where, key, cluster, err)
		}
		if sg.Severity, err = audit.ParseSeverity(sev); err != nil {
			return nil, fmt.Errorf("history database %s: scan %d: %w", s.where, sg.Scan, err)
		}
		sg.At = fromMillis(at)
		out = append(out, sg)
	}
	return out, rows.Err()
}
