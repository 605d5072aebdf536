package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/store"
)

// demoScan is the scan of the demo after renaming every pod a ReplicaSet
// owns when rollout is set, as a rollout of its Deployments would.
func demoScan(t *testing.T, rollout bool) history.Scan {
	t.Helper()
	ctx := context.Background()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if rollout {
		renamed := 0
		for i := range s.Pods {
			for _, o := range s.Pods[i].OwnerReferences {
				if o.Kind == "ReplicaSet" && o.Controller != nil && *o.Controller {
					s.Pods[i].Name += "-next"
					renamed++
					break
				}
			}
		}
		if renamed == 0 {
			t.Fatal("the rollout renamed no pod")
		}
	}
	cfg, err := action.LoadConfig("", true)
	if err != nil {
		t.Fatal(err)
	}
	env, err := action.NewEnvFor(ctx, s, cfg, action.PriceOptions{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := action.Audit{}.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	c, err := action.Cost{GroupBy: history.CostGroupings()}.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	return history.Capture(res, env.Index, c.Result)
}

// The demo's findings survive a rollout in the store: none is new, none
// resolved, and those about pods now name the new pods.
func TestDemoRollout(t *testing.T) {
	t.Parallel()
	before, after := demoScan(t, false), demoScan(t, true)
	each(t, func(t *testing.T, target string) {
		s := open(t, target)
		r1, err := s.Record(t.Context(), store.ScanRecord{Cluster: "demo", Started: t0, Scan: before})
		if err != nil {
			t.Fatal(err)
		}
		if len(r1.New) != len(before.Findings) {
			t.Fatalf("first scan: %d new of %d", len(r1.New), len(before.Findings))
		}
		r2, err := s.Record(t.Context(), store.ScanRecord{Cluster: "demo", Started: t0.Add(time.Hour), Scan: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(r2.New)+len(r2.Resolved) != 0 {
			t.Errorf("after the rollout: new %v, resolved %v", r2.New, r2.Resolved)
		}
		open, err := s.Findings(t.Context(), store.FindingFilter{Cluster: "demo", State: "open"})
		if err != nil {
			t.Fatal(err)
		}
		pods := 0
		for _, f := range open {
			if f.Object.Kind != "Pod" {
				continue
			}
			if f.Workload.Kind == "Deployment" {
				pods++
			}
			// The rollout renamed the pods of Deployments, through their
			// ReplicaSets; a DaemonSet's pod keeps its name.
			renamed := f.Workload.Kind != "Deployment" || endsWith(f.Object, "-next")
			if f.Workload == f.Object || !f.FirstSeen.Equal(t0) || !renamed {
				t.Errorf("%s on %s (workload %s, first seen %s): want the new pod, first seen before the rollout", f.Check, f.Object, f.Workload, f.FirstSeen)
			}
		}
		if len(open) != len(before.Findings) || pods == 0 {
			t.Errorf("%d open findings, %d about pods of Deployments; want %d, some about such pods", len(open), pods, len(before.Findings))
		}
	})
}

func endsWith(r snapshot.Ref, suffix string) bool {
	return len(r.Name) > len(suffix) && r.Name[len(r.Name)-len(suffix):] == suffix
}
