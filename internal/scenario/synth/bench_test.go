package synth_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/scenario/synth"
	"github.com/purserhq/purser/internal/snapshot"
)

// benchSizes are the cluster sizes, in pods, the benchmarks run at:
// PURSER_BENCH_PODS=1000,10000,150000 adds the Kubernetes limit, which
// takes several GB and minutes (see bench/RESULTS.md).
func benchSizes(b *testing.B) []int {
	v := os.Getenv("PURSER_BENCH_PODS")
	if v == "" {
		return []int{1000, 10000}
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("PURSER_BENCH_PODS=%q: %q is not a pod count", v, f)
		}
		out = append(out, n)
	}
	return out
}

// eachSize runs fn as a sub-benchmark per size, on a cluster generated
// once per size, and reports the time per pod: flat from size to size
// means linear.
func eachSize(b *testing.B, fn func(b *testing.B, s *snapshot.Snapshot)) {
	for _, n := range benchSizes(b) {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			s, _ := synth.Generate(synth.Config{Pods: n, Seed: 1})
			fn(b, s)
		})
	}
}

func perPod(b *testing.B, s *snapshot.Snapshot) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(s.Pods)), "ns/pod")
}

func BenchmarkDecode(b *testing.B) {
	eachSize(b, func(b *testing.B, s *snapshot.Snapshot) {
		var saved, export bytes.Buffer
		if err := snapshot.Encode(b.Context(), &saved, s); err != nil {
			b.Fatal(err)
		}
		if err := synth.WriteKubectlJSON(b.Context(), &export, s); err != nil {
			b.Fatal(err)
		}
		dir := b.TempDir()
		for _, in := range []struct{ name, file string }{{"snapshot", "x.snap"}, {"kubectl-json", "export.json"}} {
			data := saved.Bytes()
			if in.name == "kubectl-json" {
				data = export.Bytes()
			}
			path := filepath.Join(dir, in.file)
			if err := os.WriteFile(path, data, 0o600); err != nil {
				b.Fatal(err)
			}
			b.Run(in.name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					got, err := snapshot.Load(b.Context(), path, nil)
					if err != nil {
						b.Fatal(err)
					}
					if len(got.Pods) != len(s.Pods) {
						b.Fatalf("decoded %d pods of %d", len(got.Pods), len(s.Pods))
					}
				}
				perPod(b, s)
			})
		}
	})
}

func BenchmarkIndex(b *testing.B) {
	eachSize(b, func(b *testing.B, s *snapshot.Snapshot) {
		for b.Loop() {
			ix := snapshot.NewIndex(s)
			// The lazily built parts are part of what an audit pays.
			ix.NodeRequests("")
			ix.NamespaceContents("")
		}
		perPod(b, s)
	})
}

// BenchmarkAudit runs each check alone, then a whole audit, on one index:
// what the index builds lazily is paid by the first iteration only.
func BenchmarkAudit(b *testing.B) {
	eachSize(b, func(b *testing.B, s *snapshot.Snapshot) {
		ix := snapshot.NewIndex(s)
		reg := checks.Registry()
		in := &audit.Input{Index: ix, Config: &audit.Config{}, Mode: audit.ModeCluster}
		for _, c := range reg {
			// The check alone, without what a run adds once for all
			// checks (pool health, ignore annotations, sorting).
			b.Run(c.ID(), func(b *testing.B) {
				for b.Loop() {
					c.Run(b.Context(), in)
				}
				perPod(b, s)
			})
		}
		b.Run("all", func(b *testing.B) {
			for b.Loop() {
				if _, err := audit.Run(b.Context(), ix, reg, nil, audit.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			perPod(b, s)
		})
		// What one `purser audit` pays: the index built, then every check,
		// so that what is derived once per index counts in every iteration.
		b.Run("all-new-index", func(b *testing.B) {
			for b.Loop() {
				if _, err := audit.Run(b.Context(), snapshot.NewIndex(s), reg, nil, audit.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			perPod(b, s)
		})
	})
}

func BenchmarkCost(b *testing.B) {
	book, err := pricing.DigitalOcean()
	if err != nil {
		b.Fatal(err)
	}
	eachSize(b, func(b *testing.B, s *snapshot.Snapshot) {
		ix := snapshot.NewIndex(s)
		for b.Loop() {
			r, err := cost.Allocate(b.Context(), ix, cost.Input{Book: book})
			if err != nil {
				b.Fatal(err)
			}
			r.Breakdown(cost.DefaultGroupings()...)
		}
		perPod(b, s)
	})
}

// BenchmarkPlan builds each strategy that needs no file of its own.
func BenchmarkPlan(b *testing.B) {
	book, err := pricing.DigitalOcean()
	if err != nil {
		b.Fatal(err)
	}
	eachSize(b, func(b *testing.B, s *snapshot.Snapshot) {
		ix := snapshot.NewIndex(s)
		for _, strategy := range []string{plan.StrategyEmpty, plan.StrategyProduct, plan.StrategyEnvironment} {
			b.Run(strategy, func(b *testing.B) {
				for b.Loop() {
					if _, err := plan.Build(b.Context(), ix, plan.Input{Strategy: strategy, Prices: pricing.Assets{Book: book}}); err != nil {
						b.Fatal(err)
					}
				}
				perPod(b, s)
			})
		}
	})
}
