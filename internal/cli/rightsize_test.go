package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/testutil/golden"
)

func runRightsize(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	root := NewRoot(streams)
	root.SetArgs(append([]string{"rightsize"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// The demo's right-sizing, from the recorded fortnight: per-workload
// savings and the nodes they free, in each format.
func TestRightsizeDemoGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, format string }{
		{"rightsize-demo.txt", "table"},
		{"rightsize-demo.md", "markdown"},
		{"rightsize-demo-monitoring.txt", "table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"--demo", "-o", tc.format}
			if strings.Contains(tc.name, "monitoring") {
				args = append(args, "-n", "monitoring")
			}
			out, stderr, err := runRightsize(t, args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			golden.Assert(t, filepath.Join("testdata", tc.name), []byte(out))
		})
	}
}

// Every format renders, and the machine ones parse.
func TestRightsizeDemoFormats(t *testing.T) {
	t.Parallel()
	for _, format := range rightsizeFormats() {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			out, stderr, err := runRightsize(t, "--demo", "-o", format)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			switch format {
			case "json", "sarif":
				var v map[string]any
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Fatalf("%s does not parse: %v", format, err)
				}
			case "html":
				if !strings.Contains(out, "<table>") || !strings.Contains(out, "Applying all of these frees") {
					t.Errorf("html:\n%.400s", out)
				}
			}
			if !strings.Contains(out, "kvibe-backend") {
				t.Errorf("%s output names no workload:\n%.400s", format, out)
			}
		})
	}
}

type rightsizeJSON struct {
	Kind            string       `json:"kind"`
	Currency        string       `json:"currency"`
	Compute         money.Amount `json:"compute"`
	CostRightsizing money.Amount `json:"costRightsizing"`
	After           money.Amount `json:"after"`
	Nodes           money.Amount `json:"nodes"`
	Requests        money.Amount `json:"requests"`
	Pools           []struct {
		Pool        string       `json:"pool"`
		Today       int          `json:"today"`
		Needed      int          `json:"needed"`
		NeededAfter int          `json:"neededAfter"`
		Freed       int          `json:"freed"`
		NodeMonthly money.Amount `json:"nodeMonthly"`
		Monthly     money.Amount `json:"monthly"`
	} `json:"pools"`
	Workloads []struct {
		Workload struct{ Namespace, Kind, Name string } `json:"workload"`
		Current  money.Amount                           `json:"current"`
		Monthly  money.Amount                           `json:"monthly"`
	} `json:"workloads"`
	Recommendations []struct {
		Workload  struct{ Namespace, Kind, Name string } `json:"workload"`
		Container string                                 `json:"container"`
		Monthly   money.Amount                           `json:"monthly"`
		Resources struct {
			Requests map[string]string `json:"requests"`
			Limits   map[string]string `json:"limits"`
		} `json:"resources"`
	} `json:"recommendations"`
}

// The right-sizing's figures are `purser cost --demo`'s: the same
// compute total, the same pool right-sizing at today's requests, each
// workload's cost today as cost --by workload allocates it; and its own
// totals add up.
func TestRightsizeDemoReconcilesWithCost(t *testing.T) {
	t.Parallel()
	out, stderr, err := runRightsize(t, "--demo", "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var rs rightsizeJSON
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatal(err)
	}
	cout, stderr, err := runCost(t, "--demo", "-o", "json", "--by", "workload")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var c struct {
		Categories []struct {
			Category string       `json:"category"`
			Amount   money.Amount `json:"amount"`
		} `json:"categories"`
		Groupings []struct {
			Rows []struct {
				Key        string                  `json:"key"`
				ByCategory map[string]money.Amount `json:"byCategory"`
			} `json:"rows"`
		} `json:"groupings"`
		Rightsizing struct {
			Monthly money.Amount `json:"monthly"`
			Pools   []struct {
				Pool   string `json:"pool"`
				Nodes  int    `json:"nodes"`
				Needed int    `json:"needed"`
			} `json:"pools"`
		} `json:"rightsizing"`
	}
	if err := json.Unmarshal([]byte(cout), &c); err != nil {
		t.Fatal(err)
	}
	for _, cat := range c.Categories {
		if cat.Category == "compute" && cat.Amount != rs.Compute {
			t.Errorf("compute %s, purser cost says %s", rs.Compute, cat.Amount)
		}
	}
	if rs.CostRightsizing != c.Rightsizing.Monthly || rs.CostRightsizing.String() != "USD 240.00" {
		t.Errorf("right-sizing at today's requests %s, purser cost says %s", rs.CostRightsizing, c.Rightsizing.Monthly)
	}
	if len(rs.Pools) != len(c.Rightsizing.Pools) {
		t.Fatalf("%d pools, purser cost has %d", len(rs.Pools), len(c.Rightsizing.Pools))
	}
	freed := money.Amount{Currency: "USD"}
	for i, p := range rs.Pools {
		cp := c.Rightsizing.Pools[i]
		if p.Pool != cp.Pool || p.Today != cp.Nodes || p.Needed != cp.Needed {
			t.Errorf("pool %+v, purser cost has %+v", p, cp)
		}
		if p.Freed != p.Needed-p.NeededAfter {
			t.Errorf("pool %s frees %d, needs %d then %d", p.Pool, p.Freed, p.Needed, p.NeededAfter)
		}
		want, _ := p.NodeMonthly.Mul(int64(p.Freed))
		if p.Monthly != want {
			t.Errorf("pool %s: %d freed × %s = %s, reported %s", p.Pool, p.Freed, p.NodeMonthly, want, p.Monthly)
		}
		freed, _ = freed.Add(p.Monthly)
	}
	if freed != rs.Nodes {
		t.Errorf("pools free %s, the total says %s", freed, rs.Nodes)
	}
	if sum, _ := rs.CostRightsizing.Add(rs.Nodes); sum != rs.After {
		t.Errorf("%s + %s != %s", rs.CostRightsizing, rs.Nodes, rs.After)
	}
	if rs.Nodes.Micros <= 0 {
		t.Errorf("the demo's right-sizing frees no node: %s", rs.Nodes)
	}
	byWorkload := map[string]money.Amount{}
	for _, row := range c.Groupings[0].Rows {
		byWorkload[row.Key] = row.ByCategory["compute"]
	}
	requests := money.Amount{Currency: "USD"}
	for _, w := range rs.Workloads {
		key := w.Workload.Kind + "/" + w.Workload.Namespace + "/" + w.Workload.Name
		if got := byWorkload[key]; got != w.Current {
			t.Errorf("%s costs %s today by purser cost, %s by rightsize", key, got, w.Current)
		}
		if w.Monthly.Micros > w.Current.Micros {
			t.Errorf("%s saves %s of %s", key, w.Monthly, w.Current)
		}
		requests, _ = requests.Add(w.Monthly)
	}
	if requests != rs.Requests {
		t.Errorf("workloads save %s, the total says %s", requests, rs.Requests)
	}
	// The next step (writing the change where the workload comes from)
	// reads each recommendation's workload, container and whole resources.
	for _, rec := range rs.Recommendations {
		if rec.Workload.Kind == "" || rec.Container == "" || rec.Resources.Requests["cpu"] == "" || rec.Resources.Requests["memory"] == "" {
			t.Errorf("recommendation %+v lacks what a fix writer needs", rec)
		}
	}
}

func TestRightsizeFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", "x.yaml"}, "rightsize needs measured usage: give --prometheus URL"},
		{[]string{"--demo", "--prometheus", "http://p:9090"}, "the demo reads its recorded usage"},
		{[]string{"--demo", "--percentile", "40"}, `--percentile "40": expected a percentile from 50 to 100`},
		{[]string{"--demo", "--window", "2x"}, `--window "2x"`},
		{[]string{"--demo", "--step", "30d"}, "--step 30d is longer than --window 14d"},
		{[]string{"--demo", "--headroom", "-5"}, "--headroom -5"},
		{[]string{"--demo", "--at", "yesterday"}, `--at "yesterday"`},
		{[]string{"--demo", "-n", "nowhere"}, `namespace "nowhere" not found`},
		{[]string{"--demo", "--max-queries", "-1"}, "--max-queries and --max-samples are 0"},
	} {
		_, _, err := runRightsize(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// p99 asks more CPU than p95 of the same history, and a larger headroom
// more memory.
func TestRightsizeDemoPercentileAndHeadroom(t *testing.T) {
	t.Parallel()
	saves := func(args ...string) int64 {
		out, stderr, err := runRightsize(t, append([]string{"--demo", "-o", "json"}, args...)...)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		var rs rightsizeJSON
		if err := json.Unmarshal([]byte(out), &rs); err != nil {
			t.Fatal(err)
		}
		return rs.Requests.Micros
	}
	p95 := saves()
	p99 := saves("--percentile", "p99")
	h50 := saves("--headroom", "50")
	if !(p99 < p95) || !(h50 < p95) {
		t.Errorf("savings: p95 %d, p99 %d, headroom 50%% %d micros: p99 and more headroom must save less", p95, p99, h50)
	}
}
