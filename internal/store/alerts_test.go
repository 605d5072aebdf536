package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/store"
)

func TestAlertsExactlyOnce(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, target string) {
		ctx := t.Context()
		st := open(t, target)
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		pending := alert.State{Cluster: "c", Rule: "r", Subject: "k", Phase: alert.Pending, Severity: "warning", Summary: "s",
			Labels: map[string]string{"alertname": "r"}, ActiveSince: at}
		if err := st.ApplyAlerts(ctx, "c", []alert.Transition{{From: alert.Inactive, State: pending}}, []string{"ops", "slack"}, at); err != nil {
			t.Fatal(err)
		}
		// Opening the same alert again, as a second replica evaluating
		// the same states would, is refused.
		err := st.ApplyAlerts(ctx, "c", []alert.Transition{{From: alert.Inactive, State: pending}}, []string{"ops"}, at)
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("opening an open alert again: %v, want ErrConflict", err)
		}
		if un, err := st.Unsent(ctx, "c"); err != nil || len(un) != 0 {
			t.Fatalf("a pending alert owes no notification: %v %v", un, err)
		}
		open, err := st.OpenAlerts(ctx, "c")
		if err != nil || len(open) != 1 || open[0].Phase != alert.Pending || open[0].Labels["alertname"] != "r" {
			t.Fatalf("open alerts %+v %v", open, err)
		}
		firing := open[0]
		firing.Phase, firing.FiredAt = alert.Firing, at.Add(time.Hour)
		tr := []alert.Transition{{From: alert.Pending, State: firing}}
		if err := st.ApplyAlerts(ctx, "c", tr, []string{"ops", "slack"}, at); err != nil {
			t.Fatal(err)
		}
		if err := st.ApplyAlerts(ctx, "c", tr, []string{"ops", "slack"}, at); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("firing twice: %v, want ErrConflict", err)
		}
		un, err := st.Unsent(ctx, "c")
		if err != nil || len(un) != 2 || un[0].Kind != alert.Firing || un[0].Notifier != "ops" || un[1].Notifier != "slack" {
			t.Fatalf("unsent %+v %v", un, err)
		}
		if err := st.MarkFailed(ctx, un[0], errors.New("503")); err != nil {
			t.Fatal(err)
		}
		// Replicas marking one notification at once: exactly one wins.
		var wg sync.WaitGroup
		wins := make(chan bool, 4)
		for range 4 {
			wg.Go(func() {
				ok, err := st.MarkSent(ctx, un[1], at)
				if err != nil {
					t.Error(err)
				}
				wins <- ok
			})
		}
		wg.Wait()
		close(wins)
		n := 0
		for w := range wins {
			if w {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d replicas marked one notification sent, want 1", n)
		}
		un, err = st.Unsent(ctx, "c")
		if err != nil || len(un) != 1 || un[0].Notifier != "ops" || un[0].Attempts != 1 || un[0].LastError != "503" {
			t.Fatalf("after one failure and one success: %+v %v", un, err)
		}
		resolved := firing
		resolved.Phase, resolved.ResolvedAt = alert.Resolved, at.Add(2*time.Hour)
		if err := st.ApplyAlerts(ctx, "c", []alert.Transition{{From: alert.Firing, State: resolved}}, []string{"ops"}, at); err != nil {
			t.Fatal(err)
		}
		un, err = st.Unsent(ctx, "c")
		if err != nil || len(un) != 2 || un[0].Kind != alert.Firing || un[1].Kind != alert.Resolved {
			t.Fatalf("the unsent firing comes before the resolve: %+v %v", un, err)
		}
		if open, err := st.OpenAlerts(ctx, "c"); err != nil || len(open) != 0 {
			t.Fatalf("open after resolve: %+v %v", open, err)
		}
		all, err := st.Alerts(ctx, store.AlertFilter{Cluster: "c"})
		if err != nil || len(all) != 1 || !all[0].ResolvedAt.Equal(at.Add(2*time.Hour)) || !all[0].FiredAt.Equal(at.Add(time.Hour)) {
			t.Fatalf("alerts %+v %v", all, err)
		}
		// A new episode of the same alert may open once the last resolved.
		if err := st.ApplyAlerts(ctx, "c", []alert.Transition{{From: alert.Inactive, State: pending}}, nil, at); err != nil {
			t.Fatalf("a new episode: %v", err)
		}
	})
}

func TestPendingNeverFiredLeavesNothing(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, target string) {
		ctx := t.Context()
		st := open(t, target)
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		p := alert.State{Rule: "r", Subject: "k", Phase: alert.Pending, ActiveSince: at}
		if err := st.ApplyAlerts(ctx, "c", []alert.Transition{{From: alert.Inactive, State: p}}, []string{"ops"}, at); err != nil {
			t.Fatal(err)
		}
		open, _ := st.OpenAlerts(ctx, "c")
		gone := open[0]
		gone.Phase = alert.Inactive
		if err := st.ApplyAlerts(ctx, "c", []alert.Transition{{From: alert.Pending, State: gone}}, []string{"ops"}, at); err != nil {
			t.Fatal(err)
		}
		if all, err := st.Alerts(ctx, store.AlertFilter{}); err != nil || len(all) != 0 {
			t.Fatalf("alerts %+v %v", all, err)
		}
	})
}
