package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/purserhq/purser/internal/cost"
)

// categoryColor gives each category one colour across every chart.
func categoryColor(c string) string {
	switch c {
	case cost.Compute:
		return "#3b6fd8"
	case cost.Storage:
		return "#e0962b"
	case cost.LoadBalancers:
		return "#2f9e6e"
	case cost.Bandwidth:
		return "#9b59b6"
	case cost.Snapshots:
		return "#c0504d"
	case cost.ControlPlane:
		return "#5a6b7b"
	}
	return "#9aa5b1"
}

type svgSeg struct {
	X, W  float64
	Color string
	Title string
}

type htmlRow struct {
	Cells []string
	Segs  []svgSeg
}

type htmlGrouping struct {
	Title string
	Head  []string
	Rows  []htmlRow
	Note  string
}

type htmlLegend struct{ Label, Color string }

type htmlCategory struct {
	Label, Quantity, Amount, Share string
}

type htmlPage struct {
	Title      string
	Source     string
	Book       string
	Categories []htmlCategory
	Split      []svgSeg
	Legend     []htmlLegend
	Notes      []string
	Groupings  []htmlGrouping
}

const barWidth = 520.0

// segments lays out a stacked bar of a row's categories, scaled so that
// the largest row of its table fills the width.
func segments(byCat map[string]int64, scale float64) []svgSeg {
	var out []svgSeg
	x := 0.0
	for _, c := range cost.Categories() {
		v := byCat[c]
		if v <= 0 {
			continue
		}
		w := float64(v) * scale
		out = append(out, svgSeg{X: x, W: w, Color: categoryColor(c), Title: CategoryLabel(c)})
		x += w
	}
	return out
}

// CostHTML writes a self-contained HTML report: inline CSS and SVG, no
// script, nothing fetched from the network.
func CostHTML(w io.Writer, b cost.Breakdown) error {
	p := htmlPage{
		Title:  "Monthly cost" + scopeText(b.Scope) + ": " + b.Total.String(),
		Source: b.Source,
		Book:   fmt.Sprintf("%s, dated %s (%s)", b.PriceBook.Name, b.PriceBook.Date, b.PriceBook.Source),
	}
	split := map[string]int64{}
	for _, c := range b.Categories {
		p.Categories = append(p.Categories, htmlCategory{CategoryLabel(c.Category), categoryQuantity(c.CategoryTotal, b.Scope != ""), amount(c.Amount), pct(c.Share)})
		split[c.Category] = c.Amount.Micros
		p.Legend = append(p.Legend, htmlLegend{CategoryLabel(c.Category), categoryColor(c.Category)})
	}
	if b.Total.Micros > 0 {
		p.Split = segments(split, barWidth/float64(b.Total.Micros))
		for i := range p.Split {
			p.Split[i].Title += " " + p.Categories[i].Amount + " (" + p.Categories[i].Share + ")"
		}
	}
	var notes strings.Builder
	writeNotes(&notes, b, "")
	p.Notes = strings.Split(strings.TrimRight(notes.String(), "\n"), "\n")
	for _, g := range b.Groupings {
		hg := htmlGrouping{Title: "By " + groupTitle(g.By), Note: g.Note}
		hg.Head = []string{groupTitle(g.By), "Compute", "Storage", "LB", "Other", "Total", "Share"}
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
			hr := htmlRow{Cells: rowCells(g, r)}
			if top > 0 {
				by := map[string]int64{}
				for c, a := range r.ByCategory {
					by[c] = a.Micros
				}
				hr.Segs = segments(by, barWidth/float64(top))
				for i := range hr.Segs {
					hr.Segs[i].Title = r.Key + ": " + hr.Segs[i].Title
				}
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

// costTemplate parses the page template; parsing per call keeps the
// package free of shared state and costs well under a millisecond.
func costTemplate() (*template.Template, error) {
	return template.New("cost").Funcs(template.FuncMap{
		"f": func(v float64) string { return fmt.Sprintf("%.1f", v) },
	}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
` + CSPMeta + `
<title>{{.Title}}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#1d2733}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}
th,td{padding:.2em .7em;border-bottom:1px solid #e3e7eb;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
td.bar{padding:0 .7em}
.meta,.note{color:#5a6b7b}
.legend span{display:inline-block;margin-right:1.2em}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="meta">Source: {{.Source}}<br>Prices: {{.Book}}</p>
<svg width="{{f 520.0}}" height="24" viewBox="0 0 520 24" role="img" aria-label="cost by category">
{{- range .Split}}<rect x="{{f .X}}" y="0" width="{{f .W}}" height="24" fill="{{.Color}}"><title>{{.Title}}</title></rect>{{end}}
</svg>
<p class="legend">{{range .Legend}}<span><i style="background:{{.Color}}"></i>{{.Label}}</span>{{end}}</p>
<table>
<tr><th>Category</th><th>Quantity</th><th>Monthly</th><th>Share</th></tr>
{{- range .Categories}}
<tr><td>{{.Label}}</td><td>{{.Quantity}}</td><td>{{.Amount}}</td><td>{{.Share}}</td></tr>
{{- end}}
</table>
{{- range .Notes}}
<p class="note">{{.}}</p>
{{- end}}
{{- range .Groupings}}
<h2>{{.Title}}</h2>
<table>
<tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{- range .Rows}}
<tr>{{range .Cells}}<td>{{.}}</td>{{end}}<td class="bar"><svg width="520" height="14" viewBox="0 0 520 14">
{{- range .Segs}}<rect x="{{f .X}}" y="1" width="{{f .W}}" height="12" fill="{{.Color}}"><title>{{.Title}}</title></rect>{{end -}}
</svg></td></tr>
{{- end}}
</table>
{{- if .Note}}
<p class="note">{{.Note}}</p>
{{- end}}
{{- end}}
</body>
</html>
`)
}
