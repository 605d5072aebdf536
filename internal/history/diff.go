package history

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/snapshot"
)

// Side names one side of a comparison.
type Side struct {
	Source      string    `json:"source"`
	CollectedAt time.Time `json:"collectedAt,omitzero"`
}

// CostChange is one group's monthly cost on both sides; a group on one
// side only has a zero amount on the other.
type CostChange struct {
	By     string       `json:"by"`
	Key    string       `json:"key"`
	From   money.Amount `json:"from"`
	To     money.Amount `json:"to"`
	Change money.Amount `json:"change"`
}

// Diff is what changed from one scan to a later one.
type Diff struct {
	From Side `json:"from"`
	To   Side `json:"to"`
	// New are findings of To that From did not have.
	New []Finding `json:"new"`
	// Fixed are findings of From that To no longer has, with their check
	// run completely in To.
	Fixed []Finding `json:"fixed"`
	// Open are findings of both, as To saw them.
	Open []Finding `json:"open"`
	// Unknown are findings of From whose check did not run completely in
	// To (incomplete, skipped or not asked for): To cannot say they are
	// fixed, nor that they are not.
	Unknown []Finding `json:"unknown,omitempty"`
	// Cost lists the groups whose monthly cost changed; Currency is
	// theirs. Empty when a side was not priced.
	Cost     []CostChange `json:"cost,omitempty"`
	Currency string       `json:"currency,omitempty"`
	// TotalFrom and TotalTo are the sides' monthly totals (the pool
	// breakdown's sum, which covers every node and line item).
	TotalFrom money.Amount `json:"totalFrom,omitzero"`
	TotalTo   money.Amount `json:"totalTo,omitzero"`
	// Added and Removed are top-level objects present on one side only.
	Added   []snapshot.Ref `json:"added"`
	Removed []snapshot.Ref `json:"removed"`
}

// Compare returns what changed from a to b. Costs in two currencies
// cannot be compared: that is an error.
func Compare(a, b Scan) (*Diff, error) {
	d := &Diff{From: Side{Source: a.Source, CollectedAt: a.CollectedAt}, To: Side{Source: b.Source, CollectedAt: b.CollectedAt},
		New: []Finding{}, Fixed: []Finding{}, Open: []Finding{}, Added: []snapshot.Ref{}, Removed: []snapshot.Ref{}}
	inA := map[string]bool{}
	for _, f := range a.Findings {
		inA[f.Key] = true
	}
	inB := map[string]bool{}
	for _, f := range b.Findings {
		inB[f.Key] = true
		if inA[f.Key] {
			d.Open = append(d.Open, f)
		} else {
			d.New = append(d.New, f)
		}
	}
	for _, f := range a.Findings {
		if inB[f.Key] {
			continue
		}
		if b.Checks[f.Check] == audit.StatusOK {
			d.Fixed = append(d.Fixed, f)
		} else {
			d.Unknown = append(d.Unknown, f)
		}
	}
	for _, fs := range [][]Finding{d.New, d.Fixed, d.Open, d.Unknown} {
		SortFindings(fs)
	}
	var err error
	if d.Cost, d.Currency, err = compareCost(a, b); err != nil {
		return nil, err
	}
	if d.Currency != "" {
		if d.TotalFrom, err = total(a.Cost, "pool", a.Currency); err != nil {
			return nil, err
		}
		if d.TotalTo, err = total(b.Cost, "pool", b.Currency); err != nil {
			return nil, err
		}
	}
	d.Added, d.Removed = compareObjects(a.Objects, b.Objects)
	return d, nil
}

func compareCost(a, b Scan) ([]CostChange, string, error) {
	if len(a.Cost) == 0 || len(b.Cost) == 0 {
		return nil, "", nil
	}
	if a.Currency != b.Currency {
		return nil, "", fmt.Errorf("comparing costs: %w: %s and %s", money.ErrCurrencyMismatch, a.Currency, b.Currency)
	}
	type group struct{ by, key string }
	rows := map[group]*CostChange{}
	get := func(g GroupCost) *CostChange {
		k := group{g.By, g.Key}
		if rows[k] == nil {
			rows[k] = &CostChange{By: g.By, Key: g.Key, From: money.New(a.Currency, 0), To: money.New(a.Currency, 0)}
		}
		return rows[k]
	}
	for _, g := range a.Cost {
		get(g).From = g.Monthly
	}
	for _, g := range b.Cost {
		get(g).To = g.Monthly
	}
	var out []CostChange
	for _, c := range rows {
		ch, err := c.To.Sub(c.From)
		if err != nil {
			return nil, "", fmt.Errorf("cost of %s %s: %w", c.By, c.Key, err)
		}
		if ch.Micros == 0 {
			continue
		}
		c.Change = ch
		out = append(out, *c)
	}
	slices.SortFunc(out, func(x, y CostChange) int {
		if c := strings.Compare(x.By, y.By); c != 0 {
			return c
		}
		return strings.Compare(x.Key, y.Key)
	})
	return out, a.Currency, nil
}

// total sums one grouping's rows; every grouping adds up to the total.
func total(rows []GroupCost, by, currency string) (money.Amount, error) {
	t := money.New(currency, 0)
	for _, r := range rows {
		if r.By != by {
			continue
		}
		var err error
		if t, err = t.Add(r.Monthly); err != nil {
			return money.Amount{}, fmt.Errorf("total by %s: %w", by, err)
		}
	}
	return t, nil
}

func compareObjects(a, b []snapshot.Ref) (added, removed []snapshot.Ref) {
	added, removed = []snapshot.Ref{}, []snapshot.Ref{}
	inA := map[snapshot.Ref]bool{}
	for _, r := range a {
		inA[r] = true
	}
	inB := map[snapshot.Ref]bool{}
	for _, r := range b {
		inB[r] = true
		if !inA[r] {
			added = append(added, r)
		}
	}
	for _, r := range a {
		if !inB[r] {
			removed = append(removed, r)
		}
	}
	return added, removed
}
