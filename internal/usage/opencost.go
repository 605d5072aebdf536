package usage

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/money"
)

// openCostHoursPerMonth is OpenCost's own month (365 × 24 / 12): its
// monthly rates are hourly × 730, so scaling a window to a month uses it.
const openCostHoursPerMonth = 730

type openCostAllocation struct {
	Name      string    `json:"name"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	TotalCost float64   `json:"totalCost"`
}

type openCostResponse struct {
	Code    int                             `json:"code"`
	Message string                          `json:"message"`
	Data    []map[string]openCostAllocation `json:"data"`
}

// OpenCost imports OpenCost's allocation by namespace over window
// (`GET <base>/allocation/compute?window=…&aggregate=namespace&accumulate=true`)
// and scales it to a month, for a side-by-side column. Its __idle__ entry
// becomes the idle figure; __unallocated__ is kept under that name.
func OpenCost(ctx context.Context, hc *http.Client, base, window, currency string) (*cost.Comparison, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	u, err := url.Parse(strings.TrimSuffix(base, "/") + "/allocation/compute")
	if err != nil {
		return nil, fmt.Errorf("opencost URL %q: %w", base, err)
	}
	q := url.Values{"window": {window}, "aggregate": {"namespace"}, "accumulate": {"true"}}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("opencost %s: %w", u, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("opencost %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("opencost %s: reading: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("opencost %s: %s: %s", u, resp.Status, strings.TrimSpace(string(body[:min(len(body), 300)])))
	}
	var r openCostResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("opencost %s: decoding: %w", u, err)
	}
	if r.Code != 0 && r.Code != http.StatusOK {
		return nil, fmt.Errorf("opencost %s: code %d: %s", u, r.Code, r.Message)
	}
	c := &cost.Comparison{Source: "opencost " + base, Window: window, ByNamespace: map[string]money.Amount{},
		Idle: money.Amount{Currency: currency}}
	for _, set := range r.Data {
		for name, a := range set {
			hours := a.End.Sub(a.Start).Hours()
			if hours <= 0 {
				return nil, fmt.Errorf("opencost %s: allocation %s has no time window", u, name)
			}
			monthly := money.FromFloat(currency, a.TotalCost*openCostHoursPerMonth/hours)
			if name == "__idle__" {
				c.Idle.Micros += monthly.Micros
				continue
			}
			prev := c.ByNamespace[name]
			prev.Currency = currency
			prev.Micros += monthly.Micros
			c.ByNamespace[name] = prev
		}
	}
	return c, nil
}
