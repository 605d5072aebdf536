package report

import (
	"testing"
	"time"
)

func TestSnapshotTime(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"unknown", time.Time{}, "at an unknown time"},
		{"shown in UTC", time.Date(2026, 3, 1, 13, 30, 0, 0, paris), "2026-03-01T12:30:00Z"},
	}
	for _, tt := range tests {
		if got := SnapshotTime(tt.in, time.RFC3339); got != tt.want {
			t.Errorf("%s: SnapshotTime = %q, want %q", tt.name, got, tt.want)
		}
	}
}
