package pricing

import (
	"fmt"
	"os"
	"sort"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/yamldoc"
)

// Price book files:
//
//	apiVersion: purser.dev/v1alpha1
//	kind: PriceBook
//	name: acme-negotiated
//	provider: aws              # "digitalocean" forbids spot prices
//	currency: EUR
//	date: "2026-01-15"
//	source: contract 2026-014
//	hoursPerMonth: 730
//	instanceTypes:
//	  m5.large: {hourly: "0.089", spot: "0.031"}   # or monthly: "65"
//	fallback: {cpuHour: "0.03", gibHour: "0.004"}
//	storage: {default: "0.09", classes: {gp3: "0.08"}}
//	loadBalancer: "18"
//	snapshotGiBMonth: "0.05"
//	egressGiB: "0.09"
//	controlPlane: "73"
const (
	bookAPIVersion = "purser.dev/v1alpha1"
	bookKind       = "PriceBook"
)

// Load reads a price book file.
func Load(path string) (*Book, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading price book: %w", err)
	}
	return Parse(path, data)
}

// bookFile is a price book as written. Prices are strings, read from
// their literal text and never through float64, so that "0.10" is exactly
// 100,000 micros.
type bookFile struct {
	APIVersion       string                  `yaml:"apiVersion"`
	Kind             string                  `yaml:"kind"`
	Name             string                  `yaml:"name"`
	Provider         string                  `yaml:"provider"`
	Currency         string                  `yaml:"currency"`
	Date             string                  `yaml:"date"`
	Source           string                  `yaml:"source"`
	HoursPerMonth    int64                   `yaml:"hoursPerMonth"`
	InstanceTypes    map[string]instanceFile `yaml:"instanceTypes"`
	Fallback         *fallbackFile           `yaml:"fallback"`
	Storage          *storageFile            `yaml:"storage"`
	LoadBalancer     *string                 `yaml:"loadBalancer"`
	LoadBalancerNote string                  `yaml:"loadBalancerNote"`
	SnapshotGiBMonth *string                 `yaml:"snapshotGiBMonth"`
	EgressGiB        *string                 `yaml:"egressGiB"`
	ControlPlane     *string                 `yaml:"controlPlane"`
	ControlPlaneHA   *string                 `yaml:"controlPlaneHA"`
	Notes            []string                `yaml:"notes"`
}

type instanceFile struct {
	Monthly   *string `yaml:"monthly"`
	Hourly    *string `yaml:"hourly"`
	Spot      *string `yaml:"spot"`
	VCPU      int64   `yaml:"vcpu"`
	MemoryGiB int64   `yaml:"memoryGiB"`
}

type fallbackFile struct {
	CPUHour *string `yaml:"cpuHour"`
	GiBHour *string `yaml:"gibHour"`
}

type storageFile struct {
	Default *string           `yaml:"default"`
	Classes map[string]string `yaml:"classes"`
}

// Parse parses a price book; file names it in errors, which are
// *yamldoc.Error values carrying the line.
func Parse(file string, data []byte) (*Book, error) {
	var f bookFile
	doc, err := yamldoc.Decode(file, data, bookAPIVersion, bookKind, &f)
	if err != nil {
		return nil, err
	}
	b, err := f.book()
	if err != nil {
		return nil, doc.Check("", err)
	}
	return b, nil
}

// price reads a required or optional non-negative decimal.
func price(path string, v *string, currency string, required bool) (*money.Amount, error) {
	if v == nil {
		if required {
			return nil, missing(path)
		}
		return nil, nil
	}
	if *v == "" {
		return nil, yamldoc.Fieldf(path, "expected a price such as \"12.50\"")
	}
	a, err := money.Parse(currency, *v)
	if err != nil {
		return nil, yamldoc.Fieldf(path, "%v", err)
	}
	if a.Micros < 0 {
		return nil, yamldoc.Fieldf(path, "negative price %s", *v)
	}
	return &a, nil
}

// missing names a missing field; its line is its parent's.
func missing(path string) error {
	parent, field := "", path
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '.' {
			parent, field = path[:i], path[i+1:]
			break
		}
	}
	return &yamldoc.FieldError{Path: parent, Msg: fmt.Sprintf("missing field %q", field)}
}

func (f *bookFile) book() (*Book, error) {
	if f.Name == "" {
		return nil, missing("name")
	}
	if f.Currency == "" {
		return nil, missing("currency")
	}
	if !money.ValidCurrency(f.Currency) {
		return nil, yamldoc.Fieldf("currency", "unknown currency %q; expected an ISO 4217 code such as USD or EUR", f.Currency)
	}
	if f.HoursPerMonth < 0 || f.HoursPerMonth > maxHoursPerMonth {
		return nil, yamldoc.Fieldf("hoursPerMonth", "expected a whole number from 0 (the default) to %d (31 days), got %d", maxHoursPerMonth, f.HoursPerMonth)
	}
	b := &Book{Name: f.Name, Provider: f.Provider, Currency: f.Currency, Date: f.Date, Source: f.Source,
		HoursPerMonth: f.HoursPerMonth, LoadBalancerNote: f.LoadBalancerNote, Notes: f.Notes,
		Instances: map[string]Instance{}, StorageClasses: map[string]money.Amount{}}
	if b.HoursPerMonth == 0 {
		b.HoursPerMonth = 730
		if b.Provider == ProviderDigitalOcean {
			b.HoursPerMonth = 672
		}
	}
	cur := b.Currency
	if f.Fallback == nil {
		return nil, missing("fallback")
	}
	cpu, err := price("fallback.cpuHour", f.Fallback.CPUHour, cur, true)
	if err != nil {
		return nil, err
	}
	mem, err := price("fallback.gibHour", f.Fallback.GiBHour, cur, true)
	if err != nil {
		return nil, err
	}
	b.CPUHour, b.GiBHour = *cpu, *mem
	if f.Storage == nil {
		return nil, missing("storage")
	}
	def, err := price("storage.default", f.Storage.Default, cur, true)
	if err != nil {
		return nil, err
	}
	b.StorageDefault = *def
	for _, name := range sortedKeys(f.Storage.Classes) {
		v := f.Storage.Classes[name]
		a, err := price("storage.classes."+name, &v, cur, true)
		if err != nil {
			return nil, err
		}
		b.StorageClasses[name] = *a
	}
	lb, err := price("loadBalancer", f.LoadBalancer, cur, true)
	if err != nil {
		return nil, err
	}
	b.LoadBalancer = *lb
	if b.Snapshot, err = price("snapshotGiBMonth", f.SnapshotGiBMonth, cur, false); err != nil {
		return nil, err
	}
	if b.Egress, err = price("egressGiB", f.EgressGiB, cur, false); err != nil {
		return nil, err
	}
	b.ControlPlane = money.Amount{Currency: cur}
	if cp, err := price("controlPlane", f.ControlPlane, cur, false); err != nil {
		return nil, err
	} else if cp != nil {
		b.ControlPlane = *cp
	}
	if b.ControlPlaneHA, err = price("controlPlaneHA", f.ControlPlaneHA, cur, false); err != nil {
		return nil, err
	}
	for _, name := range sortedKeys(f.InstanceTypes) {
		it, err := f.instance(b, name)
		if err != nil {
			return nil, err
		}
		b.Instances[name] = it
	}
	return b, nil
}

// maxHoursPerMonth is the hours in the longest month.
const maxHoursPerMonth = 31 * 24

func (f *bookFile) instance(b *Book, name string) (Instance, error) {
	in, path := f.InstanceTypes[name], "instanceTypes."+name
	monthly, err := price(path+".monthly", in.Monthly, b.Currency, false)
	if err != nil {
		return Instance{}, err
	}
	hourly, err := price(path+".hourly", in.Hourly, b.Currency, false)
	if err != nil {
		return Instance{}, err
	}
	if monthly == nil && hourly == nil {
		return Instance{}, yamldoc.Fieldf(path, "missing field \"monthly\" (or \"hourly\")")
	}
	it := Instance{Hourly: hourly, VCPU: in.VCPU, MemoryGiB: in.MemoryGiB}
	if monthly != nil {
		it.Monthly = *monthly
	} else {
		if it.Monthly, err = hourly.Mul(b.HoursPerMonth); err != nil {
			return Instance{}, yamldoc.Fieldf(path+".hourly", "%s × hoursPerMonth %d: %v", hourly.Format(6), b.HoursPerMonth, err)
		}
	}
	if in.Spot != nil {
		if b.Provider == ProviderDigitalOcean {
			// DOKS node pools have no spot or max-price field and no -spot
			// size exists: a spot price here could only inflate savings.
			return Instance{}, yamldoc.Fieldf(path+".spot", "DigitalOcean has no spot Droplets; remove the spot price")
		}
		if it.Spot, err = price(path+".spot", in.Spot, b.Currency, true); err != nil {
			return Instance{}, err
		}
	}
	if in.VCPU < 0 || in.MemoryGiB < 0 {
		return Instance{}, yamldoc.Fieldf(path, "vcpu and memoryGiB must not be negative")
	}
	return it, nil
}

// sortedKeys orders map keys so that the first bad entry reported is
// always the same one.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
