// Package pricing holds price books: what each billable asset of a cluster
// costs a month. A book is the embedded DigitalOcean catalogue, a custom
// YAML file (any provider, negotiated prices) or the DigitalOcean catalogue
// refreshed from its API. Every price is money.Amount micro-units.
package pricing

import (
	_ "embed"
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strconv"
	"strings"

	"github.com/purserhq/purser/internal/money"
)

// Book is a price book.
type Book struct {
	Name     string `json:"name"`
	Provider string `json:"provider,omitempty"`
	Currency string `json:"currency"`
	// Date is when the prices were read or last checked; Source where.
	Date   string `json:"date"`
	Source string `json:"source"`
	// HoursPerMonth converts hourly prices to monthly ones. DigitalOcean
	// caps billing at 672 hours; clouds billing every hour use 730.
	HoursPerMonth int64 `json:"hoursPerMonth"`

	Instances map[string]Instance `json:"instanceTypes"`
	// CPUHour and GiBHour price an instance type the book does not list.
	CPUHour money.Amount `json:"cpuHour"`
	GiBHour money.Amount `json:"gibHour"`

	// StorageDefault is per GiB-month for a class StorageClasses lacks.
	StorageDefault money.Amount            `json:"storageDefault"`
	StorageClasses map[string]money.Amount `json:"storageClasses,omitempty"`

	LoadBalancer money.Amount `json:"loadBalancer"` // a month, per node unit
	// LoadBalancerNote says why the price differs from the catalogue's,
	// when a config overrides it.
	LoadBalancerNote string `json:"loadBalancerNote,omitempty"`

	// Snapshot (per GiB-month) and Egress (per GiB) price line items given
	// as quantities; nil when the book does not say.
	Snapshot       *money.Amount `json:"snapshotGiBMonth,omitempty"`
	Egress         *money.Amount `json:"egressGiB,omitempty"`
	ControlPlane   money.Amount  `json:"controlPlane"`
	ControlPlaneHA *money.Amount `json:"controlPlaneHA,omitempty"`

	Notes []string `json:"notes,omitempty"`
}

// Instance is the price of one instance type (a DigitalOcean size slug).
type Instance struct {
	Monthly   money.Amount  `json:"monthly"`
	Hourly    *money.Amount `json:"hourly,omitempty"`
	Spot      *money.Amount `json:"spotHourly,omitempty"`
	VCPU      int64         `json:"vcpu,omitempty"`
	MemoryGiB int64         `json:"memoryGiB,omitempty"`
}

// ProviderDigitalOcean is the provider name of DigitalOcean books.
const ProviderDigitalOcean = "digitalocean"

//go:embed digitalocean.yaml
var digitalOceanYAML []byte

// DigitalOcean returns the embedded DigitalOcean catalogue.
func DigitalOcean() (*Book, error) {
	return Parse("digitalocean.yaml (embedded)", digitalOceanYAML)
}

// DigitalOcean's documented range of nodes per load balancer, the
// service.beta.kubernetes.io/do-loadbalancer-size-unit annotation.
const (
	MinDOSizeUnits = 1
	MaxDOSizeUnits = 100
)

// DOSizeUnits parses a do-loadbalancer-size-unit annotation: a whole
// number from MinDOSizeUnits to MaxDOSizeUnits. Anything else (not a
// number, out of range) gives 1, DigitalOcean's default, and false.
func DOSizeUnits(v string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < MinDOSizeUnits || n > MaxDOSizeUnits {
		return 1, false
	}
	return n, true
}

// PriceSource says how a node's price was found.
type PriceSource string

// Where a node price came from.
const (
	FromCatalogue PriceSource = "catalogue"
	FromFallback  PriceSource = "fallback"
)

// NodeMonthly returns the monthly price of a node of instanceType with the
// given capacity. A type the book does not list is priced by the per-CPU
// and per-GiB rates, and the returned warning names it; an empty type gets
// the same treatment. Matching is by exact slug only: shapes are shared by
// sizes of different prices. A fallback price too large for an Amount is
// an error naming the instance type.
func (b *Book) NodeMonthly(instanceType string, cpuMilli, memBytes int64) (money.Amount, PriceSource, string, error) {
	if it, ok := b.Instances[instanceType]; ok {
		return it.Monthly, FromCatalogue, "", nil
	}
	name := instanceType
	if name == "" {
		name = "(no instance-type label)"
	}
	fail := func(what string, err error) (money.Amount, PriceSource, string, error) {
		return money.Amount{}, FromFallback, "", fmt.Errorf("instance type %s priced by price book %s's per-CPU and per-GiB rates: %s: %w", name, b.Name, what, err)
	}
	// Millicores × hours / 1000 and bytes / 2^30 × hours, each in one
	// rational step so rounding happens once and nothing wraps.
	cpu, err := exactMul(b.CPUHour, cpuMilli, 1000, b.HoursPerMonth)
	if err != nil {
		return fail(fmt.Sprintf("%s CPU × %d hours", milli(cpuMilli), b.HoursPerMonth), err)
	}
	mem := money.Amount{Currency: b.Currency}
	if memBytes > 0 {
		// Rounded to micros per month first, as before, then × hours.
		if mem, err = b.GiBHour.MulRat(memBytes, 1<<30); err == nil {
			mem, err = mem.Mul(b.HoursPerMonth)
		}
		if err != nil {
			return fail(fmt.Sprintf("%s GiB × %d hours", gib(memBytes), b.HoursPerMonth), err)
		}
	}
	total, err := cpu.Add(mem)
	if err != nil {
		return fail("CPU + memory", err)
	}
	warn := fmt.Sprintf("instance type %s is not in price book %s: priced at %s %s/CPU-hour and %s/GiB-hour for %s CPU and %s GiB = %s a month",
		name, b.Name, b.Currency, b.CPUHour.Format(6), b.GiBHour.Format(6), milli(cpuMilli), gib(memBytes), total.String())
	return total, FromFallback, warn, nil
}

// exactMul returns a × num × k / den with one rounding, or ErrOverflow
// when num × k itself does not fit.
func exactMul(a money.Amount, num, den, k int64) (money.Amount, error) {
	hi, lo := bits.Mul64(uint64(abs(num)), uint64(abs(k)))
	if hi != 0 || lo > math.MaxInt64 {
		return money.Amount{}, fmt.Errorf("%w: %d × %d", money.ErrOverflow, num, k)
	}
	p := int64(lo)
	if (num < 0) != (k < 0) {
		p = -p
	}
	return a.MulRat(p, den)
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// StoragePrice returns the GiB-month price of a storage class and whether
// the book lists the class.
func (b *Book) StoragePrice(class string) (money.Amount, bool) {
	if p, ok := b.StorageClasses[class]; ok {
		return p, true
	}
	return b.StorageDefault, false
}

// InstanceTypes returns the listed slugs, sorted.
func (b *Book) InstanceTypes() []string {
	out := make([]string, 0, len(b.Instances))
	for k := range b.Instances {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func milli(m int64) string {
	if m%1000 == 0 {
		return fmt.Sprint(m / 1000)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", float64(m)/1000), "0"), ".")
}

func gib(b int64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", float64(b)/(1<<30)), "0"), ".")
}
