package dashboard

import (
	"cmp"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/store"
)

// trendScans is how many of the latest scans the trends and the history
// page show: enough for a month of daily scans, few enough that a page
// reads them in milliseconds.
const trendScans = 30

// costDays is how many days the cost charts cover.
const costDays = 30

func (h *handler) funcs() template.FuncMap {
	return template.FuncMap{
		"f": f,
		// link builds a dashboard URL: the path under the base, and a
		// query encoded by url.Values, never by hand.
		"link": func(path string, kv ...string) string {
			u := h.o.BasePath + path
			q := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] != "" {
					q.Set(kv[i], kv[i+1])
				}
			}
			if len(q) > 0 {
				u += "?" + q.Encode()
			}
			return u
		},
		// findingLink is a finding's history page; the key is hex, escaped
		// all the same.
		"findingLink": func(key string) string { return h.o.BasePath + "/findings/" + url.PathEscape(key) },
		"plural": func(n int, word string) string {
			if n == 1 {
				return "1 " + word
			}
			return fmt.Sprintf("%d %ss", n, word)
		},
		"day": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04")
		},
	}
}

// findingKey is the identity of an audit finding, as the store keys it.
func findingKey(cur *Current, f audit.Finding) string {
	w := f.Object
	if cur.Env != nil && cur.Env.Index != nil {
		w = cur.Env.Index.Workload(f.Object)
	}
	return audit.Identity(f.CheckID, w)
}

// details maps the current scan's findings by identity: the store keeps
// a finding's message, the scan in memory its cause, evidence and fix.
func details(cur *Current) map[string]audit.Finding {
	out := map[string]audit.Finding{}
	if cur == nil || cur.Audit == nil {
		return out
	}
	for _, f := range cur.Audit.Findings {
		k := findingKey(cur, f)
		if old, ok := out[k]; !ok || f.Severity > old.Severity {
			out[k] = f
		}
	}
	return out
}

// ---- overview

type overviewPage struct {
	Chrome    chrome
	NoScan    bool
	ScannedAt time.Time
	Pools     []poolRow
	Open      sevCounts
	Trend     chart
	TrendRows []trendRow
	Cost      string
	CostNote  string
	CostTrend chart
	Savings   []savingRow
	Warnings  []string
}

type poolRow struct {
	Name, Status, Nodes, Pods, CPU, Memory string
}

type sevCounts struct{ Error, Warning, Info, Total int }

func (c *sevCounts) add(s audit.Severity) {
	switch s {
	case audit.Error:
		c.Error++
	case audit.Warning:
		c.Warning++
	default:
		c.Info++
	}
	c.Total++
}

type trendRow struct {
	Scan    int64
	When    string
	Counts  sevCounts
	Monthly string
}

type savingRow struct {
	Strategy, Monthly, Plan, Rightsizing, Link string
	Blocked                                    int
	Error                                      string
}

// severityColours are the trend's: red, amber and blue, each 4.5:1 on
// white.
func severityColours() []string { return []string{"#b71c1c", "#8a4b00", "#1f5fbf"} }

func (h *handler) overview(r *http.Request) (any, error) {
	ctx := r.Context()
	p := overviewPage{Chrome: h.chrome("Overview", "overview")}
	cur, err := h.current(ctx)
	if err != nil {
		return nil, err
	}
	if cur == nil || cur.Audit == nil {
		p.NoScan = true
	} else {
		p.ScannedAt = cur.ScannedAt
		for _, ph := range cur.Audit.Pools {
			p.Pools = append(p.Pools, poolRow{Name: ph.Name, Status: ph.Status(),
				Nodes: fmt.Sprintf("%d of %d ready", ph.Ready, ph.Nodes),
				Pods:  fmt.Sprintf("%d running, %d pending, %d failing", ph.PodsRunning, ph.PodsPending, ph.PodsFailing),
				CPU:   fmt.Sprintf("%d%%", ph.CPUPercent()), Memory: fmt.Sprintf("%d%%", ph.MemPercent())})
		}
		if cur.Cost != nil {
			p.Cost = cur.Cost.Breakdown.Total.String()
		}
		if cur.Env != nil {
			p.Warnings = cur.Env.Warnings
			if p.Savings, err = h.savings(r, cur); err != nil {
				return nil, err
			}
		}
	}
	open, err := h.o.Store.Findings(ctx, store.FindingFilter{Cluster: h.o.Cluster, State: "open"})
	if err != nil {
		return nil, err
	}
	for _, f := range open {
		p.Open.add(f.Severity)
	}
	if err := h.trends(r, &p); err != nil {
		return nil, err
	}
	return p, nil
}

// trends reads the latest scans, oldest first, for the findings and cost
// trends of the overview.
func (h *handler) trends(r *http.Request, p *overviewPage) error {
	scans, err := h.o.Store.Trends(r.Context(), h.o.Cluster, trendScans)
	if err != nil {
		return err
	}
	slices.Reverse(scans)
	var sevs, costs []series
	var topCost money.Amount
	for _, si := range scans {
		row := trendRow{Scan: si.ID, When: si.Started.UTC().Format("01-02 15:04"),
			Counts: sevCounts{Error: si.BySeverity[audit.Error], Warning: si.BySeverity[audit.Warning], Info: si.BySeverity[audit.Info]}}
		row.Counts.Total = row.Counts.Error + row.Counts.Warning + row.Counts.Info
		label := fmt.Sprintf("#%d", si.ID)
		sevs = append(sevs, series{Label: label, Values: []int64{int64(row.Counts.Error), int64(row.Counts.Warning), int64(row.Counts.Info)},
			Titles: []string{fmt.Sprintf("scan %d: %d errors", si.ID, row.Counts.Error), fmt.Sprintf("scan %d: %d warnings", si.ID, row.Counts.Warning), fmt.Sprintf("scan %d: %d info", si.ID, row.Counts.Info)}})
		if si.Monthly.Currency != "" {
			row.Monthly = si.Monthly.String()
			costs = append(costs, series{Label: label, Values: []int64{si.Monthly.Micros}, Titles: []string{fmt.Sprintf("scan %d: %s a month", si.ID, si.Monthly)}})
			if si.Monthly.Micros > topCost.Micros {
				topCost = si.Monthly
			}
		}
		p.TrendRows = append(p.TrendRows, row)
	}
	p.Trend = stacked("findings-trend", "Open findings per scan", fmt.Sprintf("Open findings by severity over the last %d scans; the table below has the figures.", len(scans)),
		[]string{"error", "warning", "info"}, severityColours(), sevs, "")
	if len(costs) > 0 {
		p.CostTrend = stacked("cost-trend", "Monthly cost per scan", "The cluster's monthly cost as each scan priced it; the table below has the figures.",
			[]string{"monthly cost"}, []string{colour(0)}, costs, topCost.String())
	}
	slices.Reverse(p.TrendRows)
	return nil
}

// planStrategies are the strategies the plan review offers: "file" needs
// a plan written by hand, which a dashboard has no way to be given.
func planStrategies() []string {
	return []string{plan.StrategyProduct, plan.StrategyEnvironment, plan.StrategyEmpty}
}

// planFor returns the current scan's plan for a strategy: the one the
// server built with the scan, or a new one.
func planFor(ctx context.Context, cur *Current, strategy string) (*plan.Plan, error) {
	if p := cur.Plans[strategy]; p != nil {
		return p, nil
	}
	return action.Plan{Strategy: strategy}.Run(ctx, cur.Env)
}

// savings builds a plan of the current state for each strategy, largest
// saving first.
func (h *handler) savings(r *http.Request, cur *Current) ([]savingRow, error) {
	var out []savingRow
	var monthly = map[string]int64{}
	for _, s := range planStrategies() {
		row := savingRow{Strategy: s}
		pl, err := planFor(r.Context(), cur, s)
		if err != nil {
			if r.Context().Err() != nil {
				return nil, r.Context().Err()
			}
			row.Error = err.Error()
		} else {
			sv := pl.Spec.Savings
			row.Monthly, row.Plan, row.Rightsizing = sv.Monthly.String(), sv.Plan.Monthly.String(), sv.Rightsizing.Monthly.String()
			row.Blocked = len(pl.Blocking())
			monthly[s] = sv.Monthly.Micros
		}
		out = append(out, row)
	}
	slices.SortStableFunc(out, func(a, b savingRow) int { return cmp.Compare(monthly[b.Strategy], monthly[a.Strategy]) })
	return out, nil
}

// ---- findings

type findingsPage struct {
	Chrome   chrome
	Filter   findingFilter
	Checks   []option
	Sevs     []option
	Spaces   []option
	States   []option
	Rows     []findingRow
	Total    int
	NoDetail bool
	// From and To number the findings shown, 1-based; Prev and Next link
	// the neighbouring pages, empty at either end.
	From, To   int
	Prev, Next string
}

type findingFilter struct{ Check, Severity, Namespace, State string }

// perPage bounds a findings page: a large cluster has thousands, each
// with its evidence, which no reader scrolls through and no browser
// should have to lay out at once.
const perPage = 100

type option struct {
	Value, Label string
	Selected     bool
}

type findingRow struct {
	Key, Check, Severity, Workload, Object, Message string
	FirstSeen, LastSeen                             time.Time
	Age                                             string
	Resolved                                        time.Time
	Cause                                           string
	Evidence                                        []string
	Fix                                             string
	Command                                         string
}

func options(values []string, selected string, all string) []option {
	out := []option{{Value: "", Label: all, Selected: selected == ""}}
	for _, v := range values {
		out = append(out, option{Value: v, Label: v, Selected: v == selected})
	}
	return out
}

// age says how long a finding has been open, as `purser audit --store`
// does: hours under a day, days after.
func age(d time.Duration) string {
	if d < 24*time.Hour {
		return fmt.Sprintf("open %dh", int(d.Hours()))
	}
	return fmt.Sprintf("open %dd", int(d.Hours()/24))
}

func (h *handler) findings(r *http.Request) (any, error) {
	ctx := r.Context()
	q := r.URL.Query()
	ff := findingFilter{Check: q.Get("check"), Severity: q.Get("severity"), Namespace: q.Get("namespace"), State: q.Get("state")}
	if !q.Has("state") {
		ff.State = "open"
	}
	state := ff.State
	switch state {
	case "open", "resolved":
	case "all":
		state = ""
	default:
		return nil, badRequest("state %q: expected open, resolved or all", ff.State)
	}
	page := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, badRequest("page %q: expected a number from 1", v)
		}
		page = n
	}
	var sev audit.Severity
	if ff.Severity != "" {
		var err error
		if sev, err = audit.ParseSeverity(ff.Severity); err != nil {
			return nil, badRequest("severity %q: expected error, warning or info", ff.Severity)
		}
	}
	all, err := h.o.Store.Findings(ctx, store.FindingFilter{Cluster: h.o.Cluster})
	if err != nil {
		return nil, err
	}
	checks, spaces := map[string]bool{}, map[string]bool{}
	for _, f := range all {
		checks[f.Check] = true
		if f.Workload.Namespace != "" {
			spaces[f.Workload.Namespace] = true
		}
	}
	p := findingsPage{Chrome: h.chrome("Findings", "findings"), Filter: ff,
		Checks: options(sortedKeys(checks), ff.Check, "all checks"),
		Sevs:   options([]string{"error", "warning", "info"}, ff.Severity, "all severities"),
		Spaces: options(sortedKeys(spaces), ff.Namespace, "all namespaces"),
		States: []option{{"open", "open", ff.State == "open"}, {"resolved", "fixed", ff.State == "resolved"}, {"all", "open and fixed", ff.State == "all"}},
	}
	sel, err := h.o.Store.Findings(ctx, store.FindingFilter{Cluster: h.o.Cluster, Check: ff.Check, Namespace: ff.Namespace, State: state, MinSeverity: sev})
	if err != nil {
		return nil, err
	}
	cur, err := h.current(ctx)
	if err != nil {
		return nil, err
	}
	p.NoDetail = cur == nil || cur.Audit == nil
	det := details(cur)
	now := h.o.Clock.Now()
	var kept []store.Finding
	for _, f := range sel {
		if ff.Severity == "" || f.Severity == sev {
			kept = append(kept, f)
		}
	}
	p.Total = len(kept)
	start := (page - 1) * perPage
	if start >= len(kept) && page > 1 {
		return nil, &httpError{status: http.StatusNotFound, msg: fmt.Sprintf("page %d: these filters select %d findings, %d pages", page, len(kept), (len(kept)+perPage-1)/perPage)}
	}
	end := min(start+perPage, len(kept))
	for _, f := range kept[start:end] {
		p.Rows = append(p.Rows, h.findingRow(f, det, now))
	}
	p.From, p.To = start+1, end
	pageLink := func(n int) string {
		q := url.Values{}
		for k, v := range map[string]string{"check": ff.Check, "severity": ff.Severity, "namespace": ff.Namespace, "state": ff.State} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		return h.o.BasePath + "/findings?" + q.Encode()
	}
	if page > 1 {
		p.Prev = pageLink(page - 1)
	}
	if end < len(kept) {
		p.Next = pageLink(page + 1)
	}
	return p, nil
}

func (h *handler) findingRow(f store.Finding, det map[string]audit.Finding, now time.Time) findingRow {
	row := findingRow{Key: f.Key, Check: f.Check, Severity: f.Severity.String(), Workload: f.Workload.String(), Object: f.Object.String(),
		Message: f.Message, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen, Resolved: f.Resolved}
	if f.Open() {
		row.Age = age(now.Sub(f.FirstSeen))
		if d, ok := det[f.Key]; ok {
			row.Cause, row.Evidence, row.Fix, row.Command = d.Cause, d.Evidence, d.Remediation.Text, d.Remediation.Command
		}
	} else {
		row.Age = "fixed"
	}
	return row
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ---- one finding's history

type findingPage struct {
	Chrome      chrome
	Key         string
	Current     *findingRow
	Occurrences []findingRow
	Scans       []sighting
}

type sighting struct {
	Scan     int64
	When     time.Time
	Seen     bool
	Severity string
	Message  string
	Unknown  bool
}

func (h *handler) finding(r *http.Request) (any, error) {
	ctx := r.Context()
	key := r.PathValue("key")
	occ, err := h.o.Store.Occurrences(ctx, h.o.Cluster, key)
	if err != nil {
		return nil, err
	}
	if len(occ) == 0 {
		return nil, &httpError{status: http.StatusNotFound, msg: "no finding of this cluster has that identity"}
	}
	cur, err := h.current(ctx)
	if err != nil {
		return nil, err
	}
	det := details(cur)
	now := h.o.Clock.Now()
	p := findingPage{Chrome: h.chrome("Finding history: "+occ[0].Check+" on "+occ[0].Workload.String(), "findings"), Key: key}
	for _, f := range occ {
		row := h.findingRow(f, det, now)
		p.Occurrences = append(p.Occurrences, row)
		if f.Open() {
			p.Current = &row
		}
	}
	seen, err := h.o.Store.Sightings(ctx, h.o.Cluster, key, trendScans)
	if err != nil {
		return nil, err
	}
	byScan := map[int64]store.Sighting{}
	for _, sg := range seen {
		byScan[sg.Scan] = sg
	}
	scans, err := h.o.Store.Scans(ctx, h.o.Cluster, trendScans)
	if err != nil {
		return nil, err
	}
	check := occ[0].Check
	for _, si := range scans {
		s := sighting{Scan: si.ID, When: si.Started}
		if sg, ok := byScan[si.ID]; ok {
			s.Seen, s.Severity, s.Message = true, sg.Severity.String(), sg.Message
		} else if !si.Complete {
			// Only a scan whose check ran completely says the finding
			// was gone; the rare incomplete scan is read whole to tell.
			_, hs, err := h.o.Store.Scan(ctx, si.ID)
			if err != nil {
				return nil, err
			}
			s.Unknown = hs.Checks[check] != audit.StatusOK
		}
		p.Scans = append(p.Scans, s)
	}
	return p, nil
}

// ---- cost

type costPage struct {
	Chrome    chrome
	NoScan    bool
	Total     string
	MTD       string
	MTDNote   string
	Groupings []costGrouping
}

type costGrouping struct {
	By, Name, Title string
	Rows            []costRow
	Now             chart
	Over            chart
	Days            []string
	DayRows         []dayRow
}

type costRow struct {
	Key, Monthly, Share string
}

type dayRow struct {
	Key     string
	Amounts []string
}

func groupTitle(by string) string {
	switch by {
	case "pool":
		return "node pool"
	}
	return by
}

func (h *handler) cost(r *http.Request) (any, error) {
	ctx := r.Context()
	p := costPage{Chrome: h.chrome("Cost", "cost")}
	cur, err := h.current(ctx)
	if err != nil {
		return nil, err
	}
	now := h.o.Clock.Now().UTC()
	from := now.AddDate(0, 0, -(costDays - 1))
	days, err := h.o.Store.DailyCosts(ctx, h.o.Cluster, store.Day(from), store.Day(now))
	if err != nil {
		return nil, err
	}
	var month []history.DayCost
	for _, d := range days {
		if strings.HasPrefix(d.Day, now.Format("2006-01")) {
			month = append(month, d)
		}
	}
	if len(month) > 0 {
		m, err := history.ComputeMonthToDate(month, now)
		if err != nil {
			return nil, err
		}
		for _, g := range m.Groupings {
			if g.By == "pool" {
				p.MTD = g.Total.String()
			}
		}
		p.MTDNote = m.Label()
	}
	var current map[string][]costRow
	if cur == nil || cur.Cost == nil {
		p.NoScan = true
	} else {
		p.Total = cur.Cost.Breakdown.Total.String()
		current = map[string][]costRow{}
		for _, g := range cur.Cost.Result.Breakdown(history.CostGroupings()...).Groupings {
			for _, row := range g.Rows {
				current[g.By] = append(current[g.By], costRow{Key: row.Key, Monthly: row.Total.String(), Share: fmt.Sprintf("%.1f%%", row.Share)})
			}
		}
	}
	for _, gb := range history.CostGroupings() {
		g := costGrouping{By: gb.Kind, Name: groupTitle(gb.Kind), Title: "By " + groupTitle(gb.Kind), Rows: current[gb.Kind]}
		g.Over, g.Days, g.DayRows = dailyChart(gb.Kind, days)
		p.Groupings = append(p.Groupings, g)
	}
	return p, nil
}

// dailyChart stacks each day's cost of one grouping's largest groups
// (the rest summed as "other", so that eight colours suffice), and
// returns the figures as a table too.
func dailyChart(by string, days []history.DayCost) (chart, []string, []dayRow) {
	const shown = 7
	totals := map[string]int64{}
	perDay := map[string]map[string]money.Amount{}
	var order []string
	currency := ""
	for _, d := range days {
		if d.By != by {
			continue
		}
		if perDay[d.Day] == nil {
			perDay[d.Day] = map[string]money.Amount{}
			order = append(order, d.Day)
		}
		perDay[d.Day][d.Key] = d.Amount
		totals[d.Key] += d.Amount.Micros
		currency = d.Amount.Currency
	}
	if len(order) == 0 {
		return chart{}, nil, nil
	}
	keys := make([]string, 0, len(totals))
	for k := range totals {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(totals[b], totals[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	groups := keys
	if len(keys) > shown {
		groups = append(slices.Clone(keys[:shown]), "other")
	}
	idx := map[string]int{}
	for i, k := range groups {
		idx[k] = i
	}
	colours := make([]string, len(groups))
	for i := range groups {
		colours[i] = colour(i)
	}
	var ss []series
	var top int64
	for _, day := range order {
		s := series{Label: day[5:], Values: make([]int64, len(groups)), Titles: make([]string, len(groups))}
		var sum int64
		for k, a := range perDay[day] {
			i, ok := idx[k]
			if !ok {
				i = len(groups) - 1
			}
			s.Values[i] += a.Micros
			sum += a.Micros
		}
		for i, g := range groups {
			s.Titles[i] = fmt.Sprintf("%s, %s: %s", day, g, money.New(currency, s.Values[i]))
		}
		top = max(top, sum)
		ss = append(ss, s)
	}
	c := stacked("cost-"+by, "Daily cost by "+groupTitle(by),
		fmt.Sprintf("Daily cost by %s over %d days, largest groups stacked; the table below has the figures.", groupTitle(by), len(order)),
		groups, colours, ss, money.New(currency, top).String())
	var rows []dayRow
	for _, k := range keys {
		row := dayRow{Key: k}
		for _, day := range order {
			a, ok := perDay[day][k]
			if !ok {
				row.Amounts = append(row.Amounts, "")
				continue
			}
			row.Amounts = append(row.Amounts, a.String())
		}
		rows = append(rows, row)
	}
	return c, order, rows
}

// ---- plan review

type planPage struct {
	Chrome     chrome
	NoScan     bool
	Strategy   string
	Strategies []option
	Summary    string
	Error      string
	Targets    []planTarget
	Deletions  []plan.Deletion
	Blocking   []plan.Issue
	Monthly    string
}

type planTarget struct {
	Name, Sources         string
	Exists                bool
	Moves, Resolved, Open int
	Risks                 int
	Conflicts             []plan.Issue
}

func (h *handler) plan(r *http.Request) (any, error) {
	ctx := r.Context()
	strategy := r.URL.Query().Get("strategy")
	if strategy == "" {
		strategy = plan.StrategyProduct
	}
	if !slices.Contains(planStrategies(), strategy) {
		return nil, badRequest("strategy %q: expected one of %s", strategy, strings.Join(planStrategies(), ", "))
	}
	p := planPage{Chrome: h.chrome("Plan review: "+strategy, "plan"), Strategy: strategy}
	for _, s := range planStrategies() {
		p.Strategies = append(p.Strategies, option{Value: s, Label: s, Selected: s == strategy})
	}
	cur, err := h.current(ctx)
	if err != nil {
		return nil, err
	}
	if cur == nil || cur.Env == nil {
		p.NoScan = true
		return p, nil
	}
	pl, err := planFor(ctx, cur, strategy)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// A plan rule the cluster contradicts is the config's mistake,
		// worth showing rather than a server error.
		p.Error = err.Error()
		return p, nil
	}
	var b strings.Builder
	if err := report.PlanSummary(&b, pl); err != nil {
		return nil, fmt.Errorf("plan summary (%s): %w", strategy, err)
	}
	p.Summary = b.String()
	p.Monthly = pl.Spec.Savings.Monthly.String()
	p.Deletions = pl.Spec.Deletions
	p.Blocking = pl.Blocking()
	for _, t := range pl.Spec.Targets {
		pt := planTarget{Name: t.Name, Exists: t.Exists, Sources: strings.Join(t.Sources, ", "), Moves: len(t.Moves), Risks: len(t.Risks), Conflicts: t.Conflicts}
		for _, c := range t.Conflicts {
			if c.Resolved() {
				pt.Resolved++
			} else {
				pt.Open++
			}
		}
		p.Targets = append(p.Targets, pt)
	}
	return p, nil
}

// ---- history

type historyPage struct {
	Chrome chrome
	Scans  []scanRow
}

type scanRow struct {
	store.ScanTrend
	New, Fixed []store.Finding
	First      bool
}

func (h *handler) history(r *http.Request) (any, error) {
	ctx := r.Context()
	// One more than shown tells whether the oldest shown is the first.
	scans, err := h.o.Store.Trends(ctx, h.o.Cluster, trendScans+1)
	if err != nil {
		return nil, err
	}
	changes, err := h.o.Store.Changes(ctx, h.o.Cluster, trendScans)
	if err != nil {
		return nil, err
	}
	p := historyPage{Chrome: h.chrome("History", "history")}
	for i, si := range scans {
		if i == trendScans {
			break
		}
		row := scanRow{ScanTrend: si, First: i == len(scans)-1}
		if c := changes[si.ID]; c != nil {
			row.New, row.Fixed = c.New, c.Resolved
		}
		p.Scans = append(p.Scans, row)
	}
	return p, nil
}
