package report

import (
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/plan"
)

// CategoryLabel names a cost category for people.
func CategoryLabel(c string) string {
	switch c {
	case cost.LoadBalancers:
		return "load balancers"
	case cost.ControlPlane:
		return "control plane"
	}
	return c
}

// categoryQuantity says how much of a category there is: "27 nodes",
// "533 GiB", "9".
func categoryQuantity(c cost.CategoryTotal, scoped bool) string {
	switch c.Category {
	case cost.Compute:
		if scoped {
			return plural(c.Count, "pod") // a namespace's compute is its pods' shares
		}
		return plural(c.Count, "node")
	case cost.Storage:
		return gibString(c.Bytes) + " GiB"
	case cost.LoadBalancers:
		return fmt.Sprint(c.Count)
	}
	if c.GiB != "" {
		return c.GiB + " GiB"
	}
	return plural(c.Count, "item")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func gibString(bytes int64) string {
	g := money.Amount{Micros: int64(math.Round(float64(bytes) / (1 << 30) * 10))}
	s := money.Amount{Micros: g.Micros * 100_000}.Format(1)
	return strings.TrimSuffix(s, ".0")
}

func pct(p float64) string { return fmt.Sprintf("%.1f%%", p) }

// otherCategories are shown together in per-group tables.
func otherAmount(r cost.Row) money.Amount {
	var a money.Amount
	for c, v := range r.ByCategory {
		switch c {
		case cost.Compute, cost.Storage, cost.LoadBalancers:
		default:
			a.Micros += v.Micros
			a.Currency = v.Currency
		}
	}
	return a
}

func amount(a money.Amount) string { return a.Format(2) }

func groupTitle(by string) string {
	if k, ok := strings.CutPrefix(by, "label="); ok {
		return "label " + k
	}
	return by
}

// scopeText names the namespace a report is narrowed to, for its title.
func scopeText(ns string) string {
	if ns == "" {
		return ""
	}
	return " of namespace " + ns
}

// CostTable writes a cost breakdown as text tables.
func CostTable(w io.Writer, b cost.Breakdown) error {
	var s strings.Builder
	fmt.Fprintf(&s, "Monthly cost%s: %s  (%s)\n", scopeText(b.Scope), b.Total.String(), b.Source)
	fmt.Fprintf(&s, "Prices: %s, dated %s\n\n", b.PriceBook.Name, b.PriceBook.Date)
	rows := [][]string{{"CATEGORY", "QUANTITY", "MONTHLY (" + b.Currency + ")", "SHARE"}}
	for _, c := range b.Categories {
		rows = append(rows, []string{CategoryLabel(c.Category), categoryQuantity(c.CategoryTotal, b.Scope != ""), amount(c.Amount), pct(c.Share)})
	}
	rows = append(rows, []string{"total", "", amount(b.Total), pct(100)})
	writeAligned(&s, rows, false)
	s.WriteString("\n")
	writeNotes(&s, b, "")
	for _, g := range b.Groupings {
		fmt.Fprintf(&s, "\nBy %s\n", groupTitle(g.By))
		head := []string{strings.ToUpper(groupTitle(g.By)), "COMPUTE", "STORAGE", "LB", "OTHER", "TOTAL", "SHARE"}
		if g.By == "pool" {
			head = append(head, "IDLE")
		}
		if g.HasComparison {
			head = append(head, "OPENCOST")
		}
		head = append(head, "NOTE")
		rows := [][]string{head}
		for _, r := range g.Rows {
			rows = append(rows, rowCells(g, r))
		}
		writeAligned(&s, rows, true)
		if g.Note != "" {
			fmt.Fprintf(&s, "%s\n", g.Note)
		}
	}
	_, err := io.WriteString(w, s.String())
	return err
}

// writeAligned writes rows with the first column and, when textLast, the
// last one left-aligned, and the figures between right-aligned.
func writeAligned(s *strings.Builder, rows [][]string, textLast bool) {
	writeAlignedLead(s, rows, 1, textLast)
}

// writeAlignedLead is writeAligned with the first lead columns
// left-aligned: a report over several clusters leads with the cluster,
// then the key.
func writeAlignedLead(s *strings.Builder, rows [][]string, lead int, textLast bool) {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			switch {
			case i == 0:
				line.WriteString(c + pad)
				continue
			case i < lead:
				line.WriteString("  " + c + pad)
				continue
			case textLast && i == len(r)-1:
				line.WriteString("  " + c)
				continue
			}
			line.WriteString("  " + pad + c)
		}
		s.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}

func rowCells(g cost.Grouping, r cost.Row) []string {
	cells := []string{r.Key, amount(r.ByCategory[cost.Compute]), amount(r.ByCategory[cost.Storage]),
		amount(r.ByCategory[cost.LoadBalancers]), amount(otherAmount(r)), amount(r.Total), pct(r.Share)}
	if g.By == "pool" {
		idle := ""
		if r.Idle.Micros != 0 {
			idle = amount(r.Idle)
		}
		cells = append(cells, idle)
	}
	if g.HasComparison {
		oc := "-"
		if r.OpenCost != nil {
			oc = amount(*r.OpenCost)
		}
		cells = append(cells, oc)
	}
	return append(cells, r.Note)
}

// writeNotes writes what a reader needs to trust the figures: idle, price
// overrides, usage source, unscheduled pods and warnings.
func writeNotes(s *strings.Builder, b cost.Breakdown, bullet string) {
	var compute money.Amount
	for _, c := range b.Categories {
		if c.Category == cost.Compute {
			compute = c.Amount
		}
	}
	basis := "requests"
	if b.Usage != nil {
		basis = fmt.Sprintf("max(request, usage); usage from %s over %s, %d pods, %d above their request",
			b.Usage.Source, b.Usage.Window, b.Usage.Pods, b.Usage.AboveRequest)
	}
	idleShare := 0.0
	if compute.Micros > 0 {
		idleShare = float64(b.Idle.Micros) * 100 / float64(compute.Micros)
	}
	if b.Scope != "" {
		fmt.Fprintf(s, "%sScope: namespace %s: its pods' shares of their nodes, charged by %s, CPU %d / memory %d, and its own volumes, load balancers and line items; idle capacity and shared items belong to the cluster.\n",
			bullet, b.Scope, basis, b.Weights.CPU, b.Weights.Memory)
	} else {
		fmt.Fprintf(s, "%sIdle: %s of node cost no pod takes (%s of compute); pods are charged by %s, CPU %d / memory %d.\n",
			bullet, b.Idle.String(), pct(idleShare), basis, b.Weights.CPU, b.Weights.Memory)
	}
	if b.PriceBook.LoadBalancerNote != "" {
		fmt.Fprintf(s, "%sLoad balancers at %s a node-month: %s\n", bullet, b.PriceBook.LoadBalancer.String(), b.PriceBook.LoadBalancerNote)
	}
	if line := RightsizingLine(b.Rightsizing); line != "" {
		fmt.Fprintf(s, "%s%s\n", bullet, line)
	}
	if b.Comparison != nil {
		fmt.Fprintf(s, "%sOpenCost (%s, window %s, scaled to 730 h): %s in all.\n", bullet, b.Comparison.Source, b.Comparison.Window, b.Comparison.Total.String())
	}
	if n := len(b.Unscheduled); n > 0 {
		verb := "cost nothing until they run"
		if n == 1 {
			verb = "costs nothing until it runs"
		}
		fmt.Fprintf(s, "%s%s not scheduled %s: %s\n", bullet, plural(n, "pod"), verb, firstOf(b.Unscheduled, 10))
	}
	for _, wn := range b.Warnings {
		fmt.Fprintf(s, "%sWarning: %s\n", bullet, wn)
	}
}

// RightsizingLine says what resizing the pools to their pods' requests
// would save, pool by pool, and which pools keep their nodes because the
// packing cannot model them; "" without pools.
func RightsizingLine(rs *cost.Rightsizing) string {
	if rs == nil || len(rs.Pools) == 0 {
		return ""
	}
	targets := map[int]bool{}
	var changes, kept []string
	today, needed := 0, 0
	for _, p := range rs.Pools {
		targets[p.TargetUtilization] = true
		today += p.Nodes
		needed += p.Needed
		if p.Needed != p.Nodes {
			changes = append(changes, fmt.Sprintf("%s %d → %d", p.Pool, p.Nodes, p.Needed))
		}
		if p.Note != "" {
			kept = append(kept, fmt.Sprintf(" Pool %s keeps its %s: %s.", p.Pool, plural(p.Nodes, "node"), p.Note))
		}
	}
	at := "at each pool's target utilisation of allocatable (plan.packing)"
	if len(targets) == 1 {
		at = fmt.Sprintf("at %d%% of allocatable", rs.Pools[0].TargetUtilization)
	}
	unplaced := ""
	if n := len(rs.Unplaced); n > 0 {
		verb := "fit"
		if n == 1 {
			verb = "fits"
		}
		unplaced = fmt.Sprintf(" %s not running today %s no node at that target: %s.", plural(n, "pod"), verb, strings.Join(rs.Unplaced, ", "))
	}
	tail := strings.Join(kept, "") + unplaced
	switch {
	case len(changes) == 0 && len(kept) > 0:
		return fmt.Sprintf("Right-sizing: no pool is resized %s.%s", at, tail)
	case len(changes) == 0:
		return fmt.Sprintf("Right-sizing: every pool has the nodes its pods need %s.%s", at, tail)
	}
	return fmt.Sprintf("Right-sizing: %s the pods need %s where %d run (%s); resizing the pools %s, with or without a consolidation (purser plan lists the steps).",
		at, plural(needed, "node"), today, strings.Join(changes, ", "), plan.MonthlyEffect(rs.Monthly)) + tail
}

// CostSummary writes the few lines `purser demo` shows: the total and its
// split, idle, the most expensive teams and what empty namespaces cost.
func CostSummary(w io.Writer, r *cost.Result) error {
	b := r.Breakdown(cost.GroupBy{Kind: "team"}, cost.GroupBy{Kind: "namespace"})
	var s strings.Builder
	fmt.Fprintf(&s, "Cost: %s a month (prices: %s, %s)\n", b.Total.String(), b.PriceBook.Name, b.PriceBook.Date)
	parts := make([]string, 0, len(b.Categories))
	for _, c := range b.Categories {
		q := ""
		switch c.Category {
		case cost.Storage:
			q = " " + gibString(c.Bytes) + " GiB"
		case cost.LoadBalancers:
			q = fmt.Sprintf(" (%d)", c.Count)
		}
		parts = append(parts, fmt.Sprintf("%s%s %s (%s)", CategoryLabel(c.Category), q, amount(c.Amount), pct(c.Share)))
	}
	fmt.Fprintf(&s, "  %s\n", strings.Join(parts, ", "))
	var compute money.Amount
	for _, c := range b.Categories {
		if c.Category == cost.Compute {
			compute = c.Amount
		}
	}
	if compute.Micros > 0 {
		fmt.Fprintf(&s, "  idle: %s of compute no pod requests (%s)\n", amount(b.Idle), pct(float64(b.Idle.Micros)*100/float64(compute.Micros)))
	}
	var teams []string
	for _, row := range b.Groupings[0].Rows {
		if len(teams) == 5 {
			break
		}
		if !strings.HasPrefix(row.Key, "(") && row.Total.Micros > 0 {
			teams = append(teams, fmt.Sprintf("%s %s", row.Key, amount(row.Total)))
		}
	}
	if len(teams) > 0 {
		fmt.Fprintf(&s, "  by team: %s\n", strings.Join(teams, ", "))
	}
	empty := 0
	for _, row := range b.Groupings[1].Rows {
		if row.Empty {
			empty++
		}
	}
	if empty > 0 {
		fmt.Fprintf(&s, "  %d empty namespaces: %s 0.00 (Kubernetes bills nodes, volumes and load balancers, not namespaces)\n", empty, b.Currency)
	}
	if line := RightsizingLine(b.Rightsizing); line != "" {
		fmt.Fprintf(&s, "  %s\n", line)
	}
	if b.PriceBook.LoadBalancerNote != "" {
		fmt.Fprintf(&s, "  load balancers priced at %s a node-month, not today's list price (see purser cost)\n", amount(b.PriceBook.LoadBalancer))
	}
	_, err := io.WriteString(w, s.String())
	return err
}

// firstOf joins the first n names and counts the rest: a terminal line
// of 114 pod names is read by nobody; -o json has them all.
func firstOf(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}
