package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/purserhq/purser/internal/alert"
)

// ErrConflict is returned when another writer changed an alert first:
// the transitions were computed from states that are no longer current.
var ErrConflict = errors.New("alert changed by another writer")

const alertColumns = "id, cluster, rule, subject, phase, severity, summary, labels, active_since, fired_at, resolved_at"

func scanAlert(row interface{ Scan(...any) error }) (alert.State, error) {
	var a alert.State
	var phase, labels string
	var since int64
	var fired, resolved sql.NullInt64
	if err := row.Scan(&a.ID, &a.Cluster, &a.Rule, &a.Subject, &phase, &a.Severity, &a.Summary, &labels, &since, &fired, &resolved); err != nil {
		return a, err
	}
	a.Phase, a.ActiveSince = alert.Phase(phase), fromMillis(since)
	if fired.Valid {
		a.FiredAt = fromMillis(fired.Int64)
	}
	if resolved.Valid {
		a.ResolvedAt = fromMillis(resolved.Int64)
	}
	if err := json.Unmarshal([]byte(labels), &a.Labels); err != nil {
		return a, fmt.Errorf("alert %d: labels: %w", a.ID, err)
	}
	return a, nil
}

// AlertFilter narrows Alerts; zero fields do not narrow.
type AlertFilter struct {
	Cluster string
	Rule    string
	// Phases keeps the alerts in one of these phases.
	Phases []alert.Phase
	// Limit caps the list, newest first; 0 lists all.
	Limit int
}

// Alerts lists alerts, newest first.
func (s *Store) Alerts(ctx context.Context, af AlertFilter) ([]alert.State, error) {
	var where []string
	var args []any
	if af.Cluster != "" {
		where, args = append(where, "cluster = ?"), append(args, af.Cluster)
	}
	if af.Rule != "" {
		where, args = append(where, "rule = ?"), append(args, af.Rule)
	}
	if len(af.Phases) > 0 {
		marks := make([]string, len(af.Phases))
		for i, p := range af.Phases {
			marks[i] = "?"
			args = append(args, string(p))
		}
		where = append(where, "phase IN ("+strings.Join(marks, ", ")+")")
	}
	query := "SELECT " + alertColumns + " FROM alerts"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC"
	if af.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", af.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("history database %s: listing alerts: %w", s.where, err)
	}
	defer rows.Close()
	out := []alert.State{}
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("history database %s: listing alerts: %w", s.where, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// OpenAlerts are a cluster's pending and firing alerts: what the next
// evaluation starts from.
func (s *Store) OpenAlerts(ctx context.Context, cluster string) ([]alert.State, error) {
	return s.Alerts(ctx, AlertFilter{Cluster: cluster, Phases: []alert.Phase{alert.Pending, alert.Firing}})
}

// ApplyAlerts records transitions in one transaction, and for each
// transition users hear of, queues one notification per notifier. Each
// change is conditional on the phase the evaluation started from: if
// another writer got there first, nothing is written and the error is
// ErrConflict, so that a transition is never recorded, nor notified,
// twice.
func (s *Store) ApplyAlerts(ctx context.Context, cluster string, ts []alert.Transition, notifiers []string, now time.Time) error {
	if len(ts) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO clusters (name, scans) VALUES (?, 0) ON CONFLICT (name) DO NOTHING"), cluster); err != nil {
			return fmt.Errorf("cluster %q: %w", cluster, err)
		}
		for _, t := range ts {
			id, err := s.applyAlert(ctx, tx, cluster, t)
			if err != nil {
				return fmt.Errorf("alert %s on %s: %w", t.State.Rule, t.State.Subject, err)
			}
			if !t.Notify() {
				continue
			}
			for _, n := range notifiers {
				if _, err := tx.ExecContext(ctx, s.q("INSERT INTO alert_notifications (alert_id, notifier, kind, created_at) VALUES (?, ?, ?, ?)"),
					id, n, string(t.State.Phase), millis(now)); err != nil {
					return fmt.Errorf("alert %s on %s: queueing its notification to %s: %w", t.State.Rule, t.State.Subject, n, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("history database %s: %w", s.where, err)
	}
	return nil
}

func (s *Store) applyAlert(ctx context.Context, tx *sql.Tx, cluster string, t alert.Transition) (int64, error) {
	a := t.State
	labels, err := json.Marshal(a.Labels)
	if err != nil {
		return 0, err
	}
	if t.From == alert.Inactive {
		if a.Phase != alert.Pending && a.Phase != alert.Firing {
			return 0, fmt.Errorf("no transition from inactive to %s", a.Phase)
		}
		var open int
		if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM alerts WHERE cluster = ? AND rule = ? AND subject = ? AND phase IN ('pending', 'firing')"),
			cluster, a.Rule, a.Subject).Scan(&open); err != nil {
			return 0, err
		}
		if open > 0 {
			return 0, ErrConflict
		}
		var id int64
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO alerts (cluster, rule, subject, phase, severity, summary, labels, active_since, fired_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			cluster, a.Rule, a.Subject, string(a.Phase), a.Severity, a.Summary, string(labels), millis(a.ActiveSince), nullMillis(a.FiredAt)).Scan(&id)
		return id, err
	}
	var res sql.Result
	switch a.Phase {
	case alert.Inactive:
		// A pending alert that never fired was never told: nothing to keep.
		res, err = tx.ExecContext(ctx, s.q("DELETE FROM alerts WHERE id = ? AND phase = ?"), a.ID, string(t.From))
	case alert.Firing:
		res, err = tx.ExecContext(ctx, s.q("UPDATE alerts SET phase = ?, fired_at = ?, summary = ?, labels = ? WHERE id = ? AND phase = ?"),
			string(a.Phase), millis(a.FiredAt), a.Summary, string(labels), a.ID, string(t.From))
	case alert.Resolved:
		res, err = tx.ExecContext(ctx, s.q("UPDATE alerts SET phase = ?, resolved_at = ? WHERE id = ? AND phase = ?"),
			string(a.Phase), millis(a.ResolvedAt), a.ID, string(t.From))
	default:
		return 0, fmt.Errorf("no transition from %s to %s", t.From, a.Phase)
	}
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return 0, ErrConflict
	}
	return a.ID, nil
}

func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: millis(t), Valid: true}
}

// Notification is one message owed to one notifier about one transition.
type Notification struct {
	Alert    alert.State `json:"alert"`
	Notifier string      `json:"notifier"`
	// Kind is alert.Firing or alert.Resolved.
	Kind      alert.Phase `json:"kind"`
	Attempts  int         `json:"attempts"`
	LastError string      `json:"lastError,omitempty"`
}

// Unsent lists a cluster's notifications not yet acknowledged by their
// receiver, oldest alert first and, for one alert, firing before
// resolved.
func (s *Store) Unsent(ctx context.Context, cluster string) ([]Notification, error) {
	cols := make([]string, 0, 11)
	for _, c := range strings.Split(alertColumns, ", ") {
		cols = append(cols, "a."+c)
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+strings.Join(cols, ", ")+`, n.notifier, n.kind, n.attempts, n.last_error
		FROM alert_notifications n JOIN alerts a ON a.id = n.alert_id
		WHERE a.cluster = ? AND n.sent_at IS NULL ORDER BY a.id, n.kind, n.notifier`), cluster)
	if err != nil {
		return nil, fmt.Errorf("history database %s: unsent notifications: %w", s.where, err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var n Notification
		var kind string
		var labels string
		var since int64
		var fired, resolved sql.NullInt64
		var phase string
		a := &n.Alert
		if err := rows.Scan(&a.ID, &a.Cluster, &a.Rule, &a.Subject, &phase, &a.Severity, &a.Summary, &labels, &since, &fired, &resolved,
			&n.Notifier, &kind, &n.Attempts, &n.LastError); err != nil {
			return nil, fmt.Errorf("history database %s: unsent notifications: %w", s.where, err)
		}
		a.Phase, a.ActiveSince, n.Kind = alert.Phase(phase), fromMillis(since), alert.Phase(kind)
		if fired.Valid {
			a.FiredAt = fromMillis(fired.Int64)
		}
		if resolved.Valid {
			a.ResolvedAt = fromMillis(resolved.Int64)
		}
		if err := json.Unmarshal([]byte(labels), &a.Labels); err != nil {
			return nil, fmt.Errorf("history database %s: alert %d: labels: %w", s.where, a.ID, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// MarkSent records that n's receiver acknowledged it. It reports false
// when it was marked already (by another replica): the caller then knows
// it sent a duplicate, which only a crash between sending and marking can
// cause.
func (s *Store) MarkSent(ctx context.Context, n Notification, at time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q("UPDATE alert_notifications SET sent_at = ?, attempts = attempts + 1, last_error = '' WHERE alert_id = ? AND notifier = ? AND kind = ? AND sent_at IS NULL"),
		millis(at), n.Alert.ID, n.Notifier, string(n.Kind))
	if err != nil {
		return false, fmt.Errorf("history database %s: alert %d: marking its %s notification to %s sent: %w", s.where, n.Alert.ID, n.Kind, n.Notifier, err)
	}
	c, err := res.RowsAffected()
	return c == 1, err
}

// MarkFailed counts a failed delivery of n; it stays unsent, for the
// next attempt.
func (s *Store) MarkFailed(ctx context.Context, n Notification, cause error) error {
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	if _, err := s.db.ExecContext(ctx, s.q("UPDATE alert_notifications SET attempts = attempts + 1, last_error = ? WHERE alert_id = ? AND notifier = ? AND kind = ? AND sent_at IS NULL"),
		msg, n.Alert.ID, n.Notifier, string(n.Kind)); err != nil {
		return fmt.Errorf("history database %s: alert %d: recording a failed notification to %s: %w", s.where, n.Alert.ID, n.Notifier, err)
	}
	return nil
}
