package cost

import (
	"fmt"
	"strconv"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/yamldoc"
)

// Config is the `cost` section of purser.yaml: what the cluster cannot
// tell by itself.
//
//	cost:
//	  priceBook: prices.yaml          # else the embedded DigitalOcean book
//	  prices:
//	    loadBalancer: "10"
//	    reason: why it differs from the book
//	  weights: {cpu: 50, memory: 50}
//	  haControlPlane: false
//	  lineItems:
//	  - name: outbound transfer
//	    category: bandwidth            # bandwidth, snapshots, support, other
//	    gib: 15000                     # priced by the book; or monthly: "150"
//	    namespace: ""                  # empty: shared by the whole cluster
type Config struct {
	PriceBook      string         `yaml:"priceBook"`
	Prices         PriceOverrides `yaml:"prices"`
	Weights        Weights        `yaml:"weights"`
	HAControlPlane bool           `yaml:"haControlPlane"`
	LineItems      []LineItem     `yaml:"lineItems"`
}

// PriceOverrides replace book prices; a reason is required so that a
// report can say why its figure differs from the list price.
type PriceOverrides struct {
	LoadBalancer string `yaml:"loadBalancer"`
	Reason       string `yaml:"reason"`
}

// Weights split a node's cost between its CPU and its memory before each
// part is shared among pods. The default, 50/50, follows from the
// fallback rates of the DigitalOcean book, which give half of a basic
// Droplet's price to each.
type Weights struct {
	CPU    int64 `yaml:"cpu" json:"cpu"`
	Memory int64 `yaml:"memory" json:"memory"`
}

// LineItem is a cost the cluster cannot show: outbound transfer,
// snapshots, support contracts.
type LineItem struct {
	Name     string `yaml:"name"`
	Category string `yaml:"category"`
	// Monthly is an amount in the book's currency; GiB a quantity priced
	// by the book (egress per GiB, snapshots per GiB-month).
	Monthly   string `yaml:"monthly"`
	GiB       string `yaml:"gib"`
	Namespace string `yaml:"namespace"`
	Note      string `yaml:"note"`
}

// Categories of cost, in report order.
const (
	Compute       = "compute"
	Storage       = "storage"
	LoadBalancers = "loadBalancers"
	Bandwidth     = "bandwidth"
	Snapshots     = "snapshots"
	ControlPlane  = "controlPlane"
	Support       = "support"
	Other         = "other"
)

// Categories returns the categories in report order.
func Categories() []string {
	return []string{Compute, Storage, LoadBalancers, Bandwidth, Snapshots, ControlPlane, Support, Other}
}

func lineItemCategory(c string) bool {
	switch c {
	case Bandwidth, Snapshots, Support, Other:
		return true
	}
	return false
}

// DefaultWeights are used when the config gives none.
func DefaultWeights() Weights { return Weights{CPU: 50, Memory: 50} }

func (c Config) weights() Weights {
	if c.Weights.CPU == 0 && c.Weights.Memory == 0 {
		return DefaultWeights()
	}
	return c.Weights
}

// Validate checks the section; errors are yamldoc.FieldErrors.
func (c Config) Validate() error {
	if c.Weights.CPU < 0 || c.Weights.Memory < 0 {
		return &yamldoc.FieldError{Path: "weights", Msg: "weights must not be negative"}
	}
	if c.Prices.LoadBalancer != "" {
		a, err := money.Parse("USD", c.Prices.LoadBalancer)
		if err != nil || a.Micros < 0 {
			return &yamldoc.FieldError{Path: "prices.loadBalancer", Msg: fmt.Sprintf("expected a non-negative price, got %q", c.Prices.LoadBalancer)}
		}
		if c.Prices.Reason == "" {
			return &yamldoc.FieldError{Path: "prices.reason", Msg: "say why the price differs from the price book"}
		}
	}
	for i, li := range c.LineItems {
		p := fmt.Sprintf("lineItems[%d]", i)
		if li.Name == "" {
			return &yamldoc.FieldError{Path: p + ".name", Msg: "missing name"}
		}
		if !lineItemCategory(li.Category) {
			return &yamldoc.FieldError{Path: p + ".category", Msg: fmt.Sprintf("got %q, expected bandwidth, snapshots, support or other", li.Category)}
		}
		switch {
		case li.Monthly != "" && li.GiB != "":
			return &yamldoc.FieldError{Path: p + ".gib", Msg: "give monthly or gib, not both"}
		case li.Monthly != "":
			a, err := money.Parse("USD", li.Monthly)
			if err != nil || a.Micros < 0 {
				return &yamldoc.FieldError{Path: p + ".monthly", Msg: fmt.Sprintf("expected a non-negative amount, got %q", li.Monthly)}
			}
		case li.GiB != "":
			if li.Category != Bandwidth && li.Category != Snapshots {
				return &yamldoc.FieldError{Path: p + ".gib", Msg: "only bandwidth and snapshots are priced per GiB; give monthly"}
			}
			if g, err := strconv.ParseFloat(li.GiB, 64); err != nil || g < 0 {
				return &yamldoc.FieldError{Path: p + ".gib", Msg: fmt.Sprintf("expected a non-negative number, got %q", li.GiB)}
			}
		default:
			return &yamldoc.FieldError{Path: p + ".monthly", Msg: "missing monthly (or gib)"}
		}
	}
	return nil
}

// Apply returns book with the config's price overrides.
func (c Config) Apply(book *pricing.Book) (*pricing.Book, error) {
	b := *book
	if c.Prices.LoadBalancer != "" {
		lb, err := money.Parse(b.Currency, c.Prices.LoadBalancer)
		if err != nil {
			return nil, fmt.Errorf("cost.prices.loadBalancer: %w", err)
		}
		b.LoadBalancer = lb
		b.LoadBalancerNote = c.Prices.Reason
	}
	return &b, nil
}

// gibMicros parses a GiB quantity to micro-GiB exactly.
func gibMicros(s string) (int64, error) {
	a, err := money.Parse("", s)
	return a.Micros, err
}
