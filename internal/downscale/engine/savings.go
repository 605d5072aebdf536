package engine

import (
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/sched"
	"github.com/purserhq/purser/internal/snapshot"
)

// Savings are what sleeping saves, in the price book's currency.
//
// A workload's monthly cost is estimated from its pod template's
// requests, at the cluster's price per CPU and per byte of memory (the
// nodes' monthly price split by the cost weights, over their
// allocatable): a sleeping workload has no pods left to price, and the
// same estimate for awake and asleep workloads keeps the figures
// comparable from one run to the next.
type Savings struct {
	Currency string `json:"currency"`
	// HoursPerMonth is the price book's month.
	HoursPerMonth int64            `json:"hoursPerMonth"`
	Workloads     []WorkloadSaving `json:"workloads"`
	// Window is what the current (or next) windows save, Month what a
	// month of the schedules saves, holidays included.
	Window money.Amount `json:"window"`
	Month  money.Amount `json:"month"`
	// Pools are the node pools and the nodes their pods need awake and
	// with the sleeping pods gone.
	Pools []PoolSaving `json:"pools,omitempty"`
}

// WorkloadSaving is one sleeping (or about to sleep) workload's share.
type WorkloadSaving struct {
	Workload Ref `json:"workload"`
	// Pods are the replicas that sleep (original minus downtime).
	Pods        int32        `json:"pods"`
	Monthly     money.Amount `json:"monthly"`
	WindowHours float64      `json:"windowHours"`
	Window      money.Amount `json:"window"`
	MonthHours  float64      `json:"monthHours"`
	Month       money.Amount `json:"month"`
}

// PoolSaving is a node pool's size with and without the sleeping pods.
type PoolSaving struct {
	Pool  string `json:"pool"`
	Today int    `json:"today"`
	// Awake is what packing needs with every pod, Asleep without the
	// sleeping ones: the difference is the night's, not a consolidation's.
	Awake  int `json:"awake"`
	Asleep int `json:"asleep"`
	// Note says why packing keeps the pool at its size, if it does.
	Note string `json:"note,omitempty"`
}

// Estimate prices the plan's sleeping workloads: those it puts to sleep
// and those asleep already, each for the rest of its window and for a
// month of its schedule from now. c is the snapshot's allocation (for
// node prices and weights); target the packing target per pool.
func Estimate(ix *snapshot.Index, c *cost.Result, p *Plan, holidays *Calendar, hoursPerMonth int64, target func(pool string) int) (*Savings, error) {
	if hoursPerMonth <= 0 {
		hoursPerMonth = 730
	}
	sv := &Savings{Currency: c.Currency, HoursPerMonth: hoursPerMonth, Window: money.New(c.Currency, 0), Month: money.New(c.Currency, 0)}
	total := money.New(c.Currency, 0)
	var cpu, mem int64
	for _, n := range c.Nodes {
		var err error
		if total, err = total.Add(n.Monthly); err != nil {
			return nil, fmt.Errorf("pricing node %s: %w", n.Name, err)
		}
		cpu += n.CPUMilli
		mem += n.MemoryBytes
	}
	w := c.Weights
	if w.CPU+w.Memory <= 0 {
		w = cost.DefaultWeights()
	}
	perPod := func(spec *corev1.PodSpec) (money.Amount, error) {
		reqCPU, reqMem := snapshot.PodRequestsMilli(spec)
		out := money.New(c.Currency, 0)
		if cpu > 0 {
			a, err := total.MulRat(w.CPU*reqCPU, (w.CPU+w.Memory)*cpu)
			if err != nil {
				return out, err
			}
			out = a
		}
		if mem > 0 {
			a, err := total.MulRat(w.Memory*reqMem, (w.CPU+w.Memory)*mem)
			if err != nil {
				return out, err
			}
			if out, err = out.Add(a); err != nil {
				return out, err
			}
		}
		return out, nil
	}
	sleeping := map[string]bool{} // top owners, "Kind/ns/name"
	monthEnd := p.Now.Add(time.Duration(hoursPerMonth) * time.Hour)
	for _, d := range p.Decisions {
		asleepNow := d.Action == Keep && d.Original > d.Current && d.Via != ViaSuspend
		if d.Action != Sleep && !asleepNow || d.Via == ViaSuspend {
			continue
		}
		spec := templateOf(ix.S, d.Workload)
		if spec == nil {
			continue
		}
		replicas := d.Original
		if d.Action == Sleep {
			sleeping[d.Workload.String()] = true
			replicas = d.Current
		}
		pods := replicas - d.Target
		if d.Via == ViaMinReplica {
			// The HPA scales between its bounds; its lowered minimum
			// frees at most what the minimum held.
			pods = d.Current - d.Target
			if d.Action != Sleep {
				pods = d.Original - d.Current
			}
		}
		if pods <= 0 {
			continue
		}
		one, err := perPod(spec)
		if err != nil {
			return nil, fmt.Errorf("pricing %s: %w", d.Workload, err)
		}
		ws := WorkloadSaving{Workload: d.Workload, Pods: pods}
		if ws.Monthly, err = one.Mul(int64(pods)); err != nil {
			return nil, fmt.Errorf("pricing %s: %w", d.Workload, err)
		}
		var s *Schedule
		if d.Schedule != "" {
			if s, err = ParseSchedule(d.Schedule); err != nil {
				return nil, err
			}
			s.Holidays = holidays
		}
		if s != nil {
			if asleep, until := s.Asleep(p.Now); asleep {
				ws.WindowHours = until.Sub(p.Now).Hours()
			} else if next := s.NextSleep(p.Now); !next.IsZero() {
				_, until := s.Asleep(next)
				ws.WindowHours = until.Sub(next).Hours()
			}
			ws.MonthHours = s.SleepHours(p.Now, monthEnd)
		}
		minutes := func(h float64) int64 { return int64(h*60 + 0.5) }
		if ws.Window, err = ws.Monthly.MulRat(minutes(ws.WindowHours), hoursPerMonth*60); err != nil {
			return nil, err
		}
		if ws.Month, err = ws.Monthly.MulRat(minutes(ws.MonthHours), hoursPerMonth*60); err != nil {
			return nil, err
		}
		if sv.Window, err = sv.Window.Add(ws.Window); err != nil {
			return nil, err
		}
		if sv.Month, err = sv.Month.Add(ws.Month); err != nil {
			return nil, err
		}
		sv.Workloads = append(sv.Workloads, ws)
	}
	sv.Pools = poolSizes(ix, sleeping, target)
	return sv, nil
}

// poolSizes packs the pods that stay awake onto their pools.
func poolSizes(ix *snapshot.Index, sleeping map[string]bool, target func(string) int) []PoolSaving {
	shapes := sched.Pools(ix)
	if len(shapes) == 0 {
		return nil
	}
	if err := sched.Configure(shapes, target, nil); err != nil {
		return nil
	}
	daemons, pods := sched.Demands(ix)
	awake := pods[:0:0]
	for _, d := range pods {
		if !sleeping[d.Spread] {
			awake = append(awake, d)
		}
	}
	all, res := sched.Pack(shapes, daemons, pods), sched.Pack(shapes, daemons, awake)
	var out []PoolSaving
	for _, s := range shapes {
		pp := res.Pools[s.Pool]
		ps := PoolSaving{Pool: s.Pool, Today: pp.Today, Awake: all.Pools[s.Pool].Needed, Asleep: pp.Needed, Note: pp.Kept()}
		if ps.Note != "" {
			ps.Awake, ps.Asleep = pp.Today, pp.Today
		}
		out = append(out, ps)
	}
	slices.SortFunc(out, func(a, b PoolSaving) int {
		if a.Pool < b.Pool {
			return -1
		}
		return 1
	})
	return out
}

// templateOf returns a workload's pod template.
func templateOf(s *snapshot.Snapshot, r Ref) *corev1.PodSpec {
	switch r.Kind {
	case "Deployment":
		if i := slices.IndexFunc(s.Deployments, func(d appsv1.Deployment) bool { return d.Namespace == r.Namespace && d.Name == r.Name }); i >= 0 {
			return &s.Deployments[i].Spec.Template.Spec
		}
	case "StatefulSet":
		if i := slices.IndexFunc(s.StatefulSets, func(d appsv1.StatefulSet) bool { return d.Namespace == r.Namespace && d.Name == r.Name }); i >= 0 {
			return &s.StatefulSets[i].Spec.Template.Spec
		}
	}
	return nil
}
