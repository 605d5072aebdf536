package usage

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
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
	c, err := decodeAllocation(body, currency)
	if err != nil {
		return nil, fmt.Errorf("opencost %s: %w", u, err)
	}
	c.Source, c.Window = "opencost "+base, window
	return c, nil
}

// decodeAllocation reads the body of an allocation response into monthly
// amounts by namespace; the caller fills in where and over what window.
// It is apart from OpenCost so that the response can be tested on its
// own: it is what another program sends.
func decodeAllocation(body []byte, currency string) (*cost.Comparison, error) {
	var r openCostResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if r.Code != 0 && r.Code != http.StatusOK {
		return nil, fmt.Errorf("code %d: %s", r.Code, r.Message)
	}
	c := &cost.Comparison{ByNamespace: map[string]money.Amount{}, Idle: money.Amount{Currency: currency}}
	for _, set := range r.Data {
		for name, a := range set {
			hours := a.End.Sub(a.Start).Hours()
			if hours <= 0 {
				return nil, fmt.Errorf("allocation %s has no time window", name)
			}
			// A large cost over a short window scales past what an
			// Amount holds; converted as it is, it would wrap.
			v := a.TotalCost * openCostHoursPerMonth / hours
			if !(math.Abs(v*money.Micro) < math.MaxInt64) {
				return nil, fmt.Errorf("allocation %s: totalCost %g over %g hours is out of range as a monthly amount", name, a.TotalCost, hours)
			}
			monthly := money.FromFloat(currency, v)
			total := c.ByNamespace[name]
			if name == "__idle__" {
				total = c.Idle
			}
			total, err := total.Add(monthly)
			if err != nil {
				return nil, fmt.Errorf("allocation %s: totalCost: %w", name, err)
			}
			if name == "__idle__" {
				c.Idle = total
				continue
			}
			c.ByNamespace[name] = total
		}
	}
	return c, nil
}
