package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// FirstScan is when the oldest scan of cluster the database holds
// started; zero when it holds none.
func (s *Store) FirstScan(ctx context.Context, cluster string) (time.Time, error) {
	var at sql.NullInt64
	if err := s.db.QueryRowContext(ctx, s.q("SELECT MIN(started_at) FROM scans WHERE cluster = ?"), cluster).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("history database %s: first scan of %q: %w", s.where, cluster, err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return fromMillis(at.Int64), nil
}
