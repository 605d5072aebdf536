package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/plan"
)

// csvCell keeps a spreadsheet from running what a cell says: names and
// labels come from the cluster, and a cell starting with =, +, - or @ is a
// formula to Excel and LibreOffice (CSV injection). Such a cell is
// prefixed with a quote, which spreadsheets show as text.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func writeCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	for _, r := range rows {
		for i := range r {
			r[i] = csvCell(r[i])
		}
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// CostCSV writes one row per group of every grouping: the figures of the
// tables, amounts as decimals in the breakdown's currency.
func CostCSV(w io.Writer, b cost.Breakdown) error {
	rows := [][]string{{"grouping", "key", "compute", "storage", "load_balancers", "other", "total", "share_percent", "idle", "currency"}}
	for _, g := range b.Groupings {
		for _, r := range g.Rows {
			rows = append(rows, []string{g.By, r.Key, amount(r.ByCategory[cost.Compute]), amount(r.ByCategory[cost.Storage]),
				amount(r.ByCategory[cost.LoadBalancers]), amount(otherAmount(r)), amount(r.Total),
				strconv.FormatFloat(r.Share, 'f', 1, 64), amount(r.Idle), b.Currency})
		}
	}
	return writeCSV(w, rows)
}

// PlanCSV writes one row per namespace the plan acts on: where it goes
// (move, into a target), or why it is deleted.
func PlanCSV(w io.Writer, p *plan.Plan) error {
	rows := [][]string{{"namespace", "action", "target", "moves", "reason"}}
	for _, t := range p.Spec.Targets {
		moves := map[string]int{}
		for _, m := range t.Moves {
			moves[m.From]++
		}
		for _, src := range t.Sources {
			action := "move"
			if src == t.Name {
				action = "receive"
			}
			rows = append(rows, []string{src, action, t.Name, strconv.Itoa(moves[src]), ""})
		}
	}
	for _, d := range p.Spec.Deletions {
		rows = append(rows, []string{d.Namespace, "delete", "", "0", d.Reason})
	}
	for _, u := range p.Spec.Untouched {
		rows = append(rows, []string{u, "untouched", "", "0", ""})
	}
	return writeCSV(w, rows)
}
