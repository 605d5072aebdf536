package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Action is one thing Purser did, or tried to do, to a cluster: a budget
// action, a scale-down, a plan step. The log is append-only.
type Action struct {
	ID      int64     `json:"id"`
	Cluster string    `json:"cluster"`
	At      time.Time `json:"at"`
	// Actor is who asked: a user, a service account, a budget rule.
	Actor string `json:"actor"`
	// Kind is what was done ("scale-down", "budget-alert").
	Kind string `json:"kind"`
	// Object is what it was done to ("Deployment/shop/web").
	Object string `json:"object"`
	// Outcome is "succeeded", "failed", "skipped" or the like.
	Outcome string `json:"outcome"`
	// Details are the action's own facts, as a JSON object.
	Details json.RawMessage `json:"details,omitempty"`
}

// LogAction appends a to the action log and returns its ID.
func (s *Store) LogAction(ctx context.Context, a Action) (int64, error) {
	if a.At.IsZero() || a.Kind == "" {
		return 0, errors.New("logging an action: its time and kind are required")
	}
	details := "{}"
	if len(a.Details) > 0 {
		if !json.Valid(a.Details) {
			return 0, fmt.Errorf("logging action %s on %s: details are not JSON", a.Kind, a.Object)
		}
		details = string(a.Details)
	}
	var id int64
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO actions (cluster, at, actor, kind, object, outcome, details)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), a.Cluster, millis(a.At), a.Actor, a.Kind, a.Object, a.Outcome, details).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("history database %s: logging action %s on %s: %w", s.where, a.Kind, a.Object, err)
	}
	return id, nil
}

// Actions lists a cluster's actions at or after since, oldest first.
func (s *Store) Actions(ctx context.Context, cluster string, since time.Time) ([]Action, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, cluster, at, actor, kind, object, outcome, details FROM actions
		WHERE cluster = ? AND at >= ? ORDER BY at, id`), cluster, millis(since))
	if err != nil {
		return nil, fmt.Errorf("history database %s: listing actions: %w", s.where, err)
	}
	defer rows.Close()
	out := []Action{}
	for rows.Next() {
		var a Action
		var at int64
		var details string
		if err := rows.Scan(&a.ID, &a.Cluster, &at, &a.Actor, &a.Kind, &a.Object, &a.Outcome, &details); err != nil {
			return nil, fmt.Errorf("history database %s: listing actions: %w", s.where, err)
		}
		a.At, a.Details = fromMillis(at), json.RawMessage(details)
		out = append(out, a)
	}
	return out, rows.Err()
}
