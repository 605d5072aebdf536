package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/output"
)

// ClusterCost is one cluster's breakdown in a report over several.
type ClusterCost struct {
	Cluster string
	// Context is the kubeconfig context it was read through.
	Context   string
	Breakdown cost.Breakdown
}

// ClusterFailure is a cluster a report over several could not read.
type ClusterFailure struct {
	Cluster string `json:"cluster"`
	Error   string `json:"error"`
}

// MultiCost is the cost of several clusters: each cluster's breakdown,
// computed on its own snapshot, and their exact sum.
type MultiCost struct {
	Clusters []ClusterCost
	Currency string
	// Total is the clusters' totals added in integer micro-units.
	Total money.Amount
	// Categories are the clusters' categories added up, in report order.
	Categories []cost.CategoryShare
	Failed     []ClusterFailure
}

// NewMultiCost adds the clusters' breakdowns up exactly. Clusters priced
// in different currencies cannot be added: the error names both.
func NewMultiCost(clusters []ClusterCost, failed []ClusterFailure) (MultiCost, error) {
	m := MultiCost{Clusters: clusters, Failed: failed}
	if len(clusters) == 0 {
		return m, nil
	}
	first := clusters[0]
	m.Currency = first.Breakdown.Currency
	m.Total = money.Amount{Currency: m.Currency}
	byCat := map[string]*cost.CategoryTotal{}
	for _, c := range clusters {
		if c.Breakdown.Currency != m.Currency {
			return MultiCost{}, fmt.Errorf("cluster %s is priced in %s and cluster %s in %s: costs in different currencies cannot be added; give both the same price book (--price-book)",
				first.Cluster, m.Currency, c.Cluster, c.Breakdown.Currency)
		}
		t, err := m.Total.Add(c.Breakdown.Total)
		if err != nil {
			return MultiCost{}, fmt.Errorf("adding the cost of cluster %s: %w", c.Cluster, err)
		}
		m.Total = t
		for _, cat := range c.Breakdown.Categories {
			sum, ok := byCat[cat.Category]
			if !ok {
				sum = &cost.CategoryTotal{Category: cat.Category, Amount: money.Amount{Currency: m.Currency}, GiB: cat.GiB}
				byCat[cat.Category] = sum
			} else {
				// Line items' quantities are free text per cluster; a sum
				// of them would be made up, so the count stands alone.
				sum.GiB = ""
			}
			a, err := sum.Amount.Add(cat.Amount)
			if err != nil {
				return MultiCost{}, fmt.Errorf("adding the %s cost of cluster %s: %w", cat.Category, c.Cluster, err)
			}
			sum.Amount, sum.Count, sum.Bytes = a, sum.Count+cat.Count, sum.Bytes+cat.Bytes
		}
	}
	for _, name := range cost.Categories() {
		if c, ok := byCat[name]; ok {
			m.Categories = append(m.Categories, cost.CategoryShare{CategoryTotal: *c, Share: share(c.Amount, m.Total)})
		}
	}
	return m, nil
}

func share(a, total money.Amount) float64 {
	if total.Micros <= 0 {
		return 0
	}
	return float64(a.Micros) * 100 / float64(total.Micros)
}

func (m MultiCost) names() string {
	names := make([]string, len(m.Clusters))
	for i, c := range m.Clusters {
		names[i] = c.Cluster
	}
	return strings.Join(names, ", ")
}

func (m MultiCost) title() string {
	t := fmt.Sprintf("Monthly cost of %d clusters (%s)", len(m.Clusters), m.names())
	if len(m.Clusters) > 0 {
		t += scopeText(m.Clusters[0].Breakdown.Scope)
	}
	return t + ": " + m.Total.String()
}

// clusterGrouping is the "By cluster" table: one row per cluster.
func (m MultiCost) clusterGrouping() cost.Grouping {
	g := cost.Grouping{By: "cluster"}
	for _, c := range m.Clusters {
		r := cost.Row{Key: c.Cluster, Total: c.Breakdown.Total, Share: share(c.Breakdown.Total, m.Total), ByCategory: map[string]money.Amount{}, Idle: c.Breakdown.Idle}
		for _, cat := range c.Breakdown.Categories {
			r.ByCategory[cat.Category] = cat.Amount
		}
		g.Rows = append(g.Rows, r)
	}
	return g
}

// clusterRow is a grouping row labelled with its cluster; Share is of
// the combined total.
type clusterRow struct {
	Cluster string `json:"cluster"`
	cost.Row
}

type mergedGrouping struct {
	By            string       `json:"by"`
	Rows          []clusterRow `json:"rows"`
	HasComparison bool         `json:"hasComparison,omitempty"`
}

// groupings merges the clusters' groupings, by grouping, cluster after
// cluster. Every cluster has the same groupings: one command asked them.
func (m MultiCost) groupings() []mergedGrouping {
	var out []mergedGrouping
	if len(m.Clusters) == 0 {
		return nil
	}
	for i, g := range m.Clusters[0].Breakdown.Groupings {
		mg := mergedGrouping{By: g.By}
		for _, c := range m.Clusters {
			if i >= len(c.Breakdown.Groupings) {
				continue
			}
			cg := c.Breakdown.Groupings[i]
			mg.HasComparison = mg.HasComparison || cg.HasComparison
			for _, r := range cg.Rows {
				r.Share = share(r.Total, m.Total)
				mg.Rows = append(mg.Rows, clusterRow{Cluster: c.Cluster, Row: r})
			}
		}
		out = append(out, mg)
	}
	return out
}

func (g mergedGrouping) grouping() cost.Grouping {
	return cost.Grouping{By: g.By, HasComparison: g.HasComparison}
}

// MultiCostTable writes the cost of several clusters as text tables:
// the combined categories, a row per cluster, then each grouping with a
// CLUSTER column.
func MultiCostTable(w io.Writer, m MultiCost) error {
	var s strings.Builder
	fmt.Fprintf(&s, "%s\n\n", m.title())
	rows := [][]string{{"CATEGORY", "QUANTITY", "MONTHLY (" + m.Currency + ")", "SHARE"}}
	for _, c := range m.Categories {
		rows = append(rows, []string{CategoryLabel(c.Category), categoryQuantity(c.CategoryTotal, m.scoped()), amount(c.Amount), pct(c.Share)})
	}
	rows = append(rows, []string{"total", "", amount(m.Total), pct(100)})
	writeAligned(&s, rows, false)
	fmt.Fprintf(&s, "\nBy cluster\n")
	cg := m.clusterGrouping()
	rows = [][]string{{"CLUSTER", "COMPUTE", "STORAGE", "LB", "OTHER", "TOTAL", "SHARE", "IDLE", "SOURCE"}}
	for i, r := range cg.Rows {
		rows = append(rows, append(rowCells(cg, r)[:7], amount(r.Idle), m.Clusters[i].Breakdown.Source))
	}
	writeAligned(&s, rows, true)
	for _, c := range m.Clusters {
		fmt.Fprintf(&s, "\nCluster %s: %s (prices: %s, dated %s)\n", c.Cluster, c.Breakdown.Total.String(), c.Breakdown.PriceBook.Name, c.Breakdown.PriceBook.Date)
		writeNotes(&s, c.Breakdown, "  ")
	}
	for _, g := range m.groupings() {
		fmt.Fprintf(&s, "\nBy %s\n", groupTitle(g.By))
		head := []string{"CLUSTER", strings.ToUpper(groupTitle(g.By)), "COMPUTE", "STORAGE", "LB", "OTHER", "TOTAL", "SHARE"}
		if g.By == "pool" {
			head = append(head, "IDLE")
		}
		if g.HasComparison {
			head = append(head, "OPENCOST")
		}
		rows := [][]string{append(head, "NOTE")}
		for _, r := range g.Rows {
			rows = append(rows, append([]string{r.Cluster}, rowCells(g.grouping(), r.Row)...))
		}
		writeAlignedLead(&s, rows, 2, true)
	}
	writeFailures(&s, m.Failed, "")
	_, err := io.WriteString(w, s.String())
	return err
}

func (m MultiCost) scoped() bool {
	return len(m.Clusters) > 0 && m.Clusters[0].Breakdown.Scope != ""
}

func writeFailures(s *strings.Builder, failed []ClusterFailure, bullet string) {
	if len(failed) == 0 {
		return
	}
	fmt.Fprintf(s, "\nNot read:\n")
	for _, f := range failed {
		fmt.Fprintf(s, "%scluster %s: %s\n", bullet, f.Cluster, f.Error)
	}
}

// MultiCostMarkdown writes the cost of several clusters as Markdown.
func MultiCostMarkdown(w io.Writer, m MultiCost) error {
	var s strings.Builder
	fmt.Fprintf(&s, "# %s\n\n", md(m.title()))
	fmt.Fprintf(&s, "| Category | Quantity | Monthly (%s) | Share |\n|---|---:|---:|---:|\n", md(m.Currency))
	for _, c := range m.Categories {
		fmt.Fprintf(&s, "| %s | %s | %s | %s |\n", md(CategoryLabel(c.Category)), md(categoryQuantity(c.CategoryTotal, m.scoped())), md(amount(c.Amount)), md(pct(c.Share)))
	}
	fmt.Fprintf(&s, "| **total** | | **%s** | 100.0%% |\n\n", md(amount(m.Total)))
	fmt.Fprintf(&s, "## By cluster\n\n| Cluster | Compute | Storage | LB | Other | Total | Share | Idle | Source |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	cg := m.clusterGrouping()
	for i, r := range cg.Rows {
		cells := append(rowCells(cg, r)[:7], amount(r.Idle))
		for j := range cells {
			cells[j] = md(cells[j])
		}
		fmt.Fprintf(&s, "| %s | %s |\n", strings.Join(cells, " | "), output.MarkdownCode(m.Clusters[i].Breakdown.Source))
	}
	for _, c := range m.Clusters {
		fmt.Fprintf(&s, "\n### Cluster %s: %s\n\n", md(c.Cluster), md(c.Breakdown.Total.String()))
		fmt.Fprintf(&s, "Prices: %s, dated %s (%s).\n\n", md(c.Breakdown.PriceBook.Name), md(c.Breakdown.PriceBook.Date), md(c.Breakdown.PriceBook.Source))
		var notes strings.Builder
		writeNotes(&notes, c.Breakdown, "")
		for _, line := range strings.Split(strings.TrimRight(notes.String(), "\n"), "\n") {
			fmt.Fprintf(&s, "- %s\n", md(line))
		}
	}
	for _, g := range m.groupings() {
		fmt.Fprintf(&s, "\n## By %s\n\n", md(groupTitle(g.By)))
		head := []string{"Cluster", md(groupTitle(g.By)), "Compute", "Storage", "LB", "Other", "Total", "Share"}
		align := []string{"---", "---", "---:", "---:", "---:", "---:", "---:", "---:"}
		if g.By == "pool" {
			head, align = append(head, "Idle"), append(align, "---:")
		}
		if g.HasComparison {
			head, align = append(head, "OpenCost"), append(align, "---:")
		}
		head, align = append(head, "Note"), append(align, "---")
		fmt.Fprintf(&s, "| %s |\n|%s|\n", strings.Join(head, " | "), strings.Join(align, "|"))
		for _, r := range g.Rows {
			cells := append([]string{r.Cluster}, rowCells(g.grouping(), r.Row)...)
			for i := range cells {
				cells[i] = md(cells[i])
			}
			fmt.Fprintf(&s, "| %s |\n", strings.Join(cells, " | "))
		}
	}
	if len(m.Failed) > 0 {
		fmt.Fprintf(&s, "\n## Not read\n\n")
		for _, f := range m.Failed {
			fmt.Fprintf(&s, "- cluster %s: %s\n", md(f.Cluster), md(f.Error))
		}
	}
	_, err := io.WriteString(w, s.String())
	return err
}

// MultiCostCSV writes one row per cluster and grouping key, the cluster
// first.
func MultiCostCSV(w io.Writer, m MultiCost) error {
	rows := [][]string{{"cluster", "grouping", "key", "compute", "storage", "load_balancers", "other", "total", "share_percent", "idle", "currency"}}
	for _, g := range append([]mergedGrouping{m.clusterMerged()}, m.groupings()...) {
		for _, r := range g.Rows {
			rows = append(rows, []string{r.Cluster, g.By, r.Key, amount(r.ByCategory[cost.Compute]), amount(r.ByCategory[cost.Storage]),
				amount(r.ByCategory[cost.LoadBalancers]), amount(otherAmount(r.Row)), amount(r.Total),
				strconv.FormatFloat(r.Share, 'f', 1, 64), amount(r.Idle), m.Currency})
		}
	}
	return writeCSV(w, rows)
}

func (m MultiCost) clusterMerged() mergedGrouping {
	g := mergedGrouping{By: "cluster"}
	for _, r := range m.clusterGrouping().Rows {
		g.Rows = append(g.Rows, clusterRow{Cluster: r.Key, Row: r})
	}
	return g
}

// MultiCostDocument is `purser cost -o json|yaml` over several clusters:
// each cluster's summary, and every grouping row labelled with its
// cluster.
type MultiCostDocument struct {
	APIVersion string               `json:"apiVersion"`
	Kind       string               `json:"kind"`
	Currency   string               `json:"currency"`
	Total      money.Amount         `json:"total"`
	Categories []cost.CategoryShare `json:"categories"`
	Clusters   []ClusterCostDoc     `json:"clusters"`
	Groupings  []mergedGrouping     `json:"groupings"`
	Failed     []ClusterFailure     `json:"failed,omitempty"`
}

// ClusterCostDoc is one cluster's breakdown without its groupings, which
// the document lists merged.
type ClusterCostDoc struct {
	Cluster string  `json:"cluster"`
	Context string  `json:"context,omitempty"`
	Share   float64 `json:"sharePercent"`
	cost.Breakdown
}

// MultiCostDoc builds the document of a cost over several clusters.
func MultiCostDoc(m MultiCost) MultiCostDocument {
	d := MultiCostDocument{APIVersion: DocumentAPIVersion, Kind: "MultiClusterCostReport", Currency: m.Currency, Total: m.Total,
		Categories: m.Categories, Groupings: m.groupings(), Failed: m.Failed}
	for _, c := range m.Clusters {
		b := c.Breakdown
		b.Groupings = nil
		d.Clusters = append(d.Clusters, ClusterCostDoc{Cluster: c.Cluster, Context: c.Context, Share: share(b.Total, m.Total), Breakdown: b})
	}
	return d
}

// MultiCostHTML writes the cost of several clusters as a self-contained
// page, in the layout of the single-cluster report.
func MultiCostHTML(w io.Writer, m MultiCost) error {
	books := make([]string, len(m.Clusters))
	sources := make([]string, len(m.Clusters))
	for i, c := range m.Clusters {
		books[i] = fmt.Sprintf("%s: %s, dated %s", c.Cluster, c.Breakdown.PriceBook.Name, c.Breakdown.PriceBook.Date)
		sources[i] = c.Cluster + ": " + c.Breakdown.Source
	}
	p := htmlPage{Title: m.title(), Source: strings.Join(sources, "; "), Book: strings.Join(books, "; ")}
	split := map[string]int64{}
	for _, c := range m.Categories {
		p.Categories = append(p.Categories, htmlCategory{CategoryLabel(c.Category), categoryQuantity(c.CategoryTotal, m.scoped()), amount(c.Amount), pct(c.Share)})
		split[c.Category] = c.Amount.Micros
		p.Legend = append(p.Legend, htmlLegend{CategoryLabel(c.Category), categoryColor(c.Category)})
	}
	if m.Total.Micros > 0 {
		p.Split = segments(split, barWidth/float64(m.Total.Micros))
	}
	for _, c := range m.Clusters {
		var notes strings.Builder
		writeNotes(&notes, c.Breakdown, "Cluster "+c.Cluster+": ")
		p.Notes = append(p.Notes, strings.Split(strings.TrimRight(notes.String(), "\n"), "\n")...)
	}
	for _, f := range m.Failed {
		p.Notes = append(p.Notes, "Not read: cluster "+f.Cluster+": "+f.Error)
	}
	for _, g := range append([]mergedGrouping{m.clusterMerged()}, m.groupings()...) {
		hg := htmlGrouping{Title: "By " + groupTitle(g.By)}
		hg.Head = []string{"Cluster"}
		if g.By != "cluster" {
			hg.Head = append(hg.Head, groupTitle(g.By))
		}
		hg.Head = append(hg.Head, "Compute", "Storage", "LB", "Other", "Total", "Share")
		if g.By == "pool" {
			hg.Head = append(hg.Head, "Idle")
		}
		if g.HasComparison {
			hg.Head = append(hg.Head, "OpenCost")
		}
		hg.Head = append(hg.Head, "Note", "")
		var top int64
		for _, r := range g.Rows {
			top = max(top, r.Total.Micros)
		}
		for _, r := range g.Rows {
			cells := rowCells(g.grouping(), r.Row)
			if g.By != "cluster" {
				cells = append([]string{r.Cluster}, cells...)
			}
			hr := htmlRow{Cells: cells}
			if top > 0 {
				by := map[string]int64{}
				for c, a := range r.ByCategory {
					by[c] = a.Micros
				}
				hr.Segs = segments(by, barWidth/float64(top))
			}
			hg.Rows = append(hg.Rows, hr)
		}
		p.Groupings = append(p.Groupings, hg)
	}
	t, err := costTemplate()
	if err != nil {
		return fmt.Errorf("cost HTML template: %w", err)
	}
	return ExecuteHTML(w, t, p)
}
