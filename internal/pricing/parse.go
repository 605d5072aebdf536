package pricing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/money"
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
const bookKind = "PriceBook"

// Load reads a price book file.
func Load(path string) (*Book, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading price book: %w", err)
	}
	return Parse(path, data)
}

// Parse parses a price book; file names it in errors, which are
// *config.Error values carrying the line.
func Parse(file string, data []byte) (*Book, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &config.Error{File: file, Msg: "empty price book"}
		}
		return nil, &config.Error{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	p := &parser{file: file}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, p.errorf(&doc, "", "expected a mapping with apiVersion, kind and prices")
	}
	return p.book(doc.Content[0])
}

type parser struct{ file string }

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) error {
	return &config.Error{File: p.file, Line: n.Line, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// mapping is a YAML mapping whose keys were checked against a known set.
type mapping struct {
	node   *yaml.Node
	path   string
	values map[string]*yaml.Node
	keys   map[string]*yaml.Node
}

func (p *parser) mapping(n *yaml.Node, path string, known ...string) (*mapping, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(n, path, "expected a mapping")
	}
	m := &mapping{node: n, path: path, values: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if known != nil && !contains(known, k.Value) {
			return nil, p.errorf(k, join(path, k.Value), "unknown field; expected one of %s", strings.Join(known, ", "))
		}
		if _, dup := m.values[k.Value]; dup {
			return nil, p.errorf(k, join(path, k.Value), "duplicate field")
		}
		m.values[k.Value] = n.Content[i+1]
		m.keys[k.Value] = k
	}
	return m, nil
}

func (p *parser) required(m *mapping, key string) (*yaml.Node, error) {
	if v, ok := m.values[key]; ok {
		return v, nil
	}
	return nil, p.errorf(m.node, join(m.path, key), "missing field %q", key)
}

func (p *parser) str(m *mapping, key string, required bool) (string, error) {
	v, ok := m.values[key]
	if !ok {
		if required {
			_, err := p.required(m, key)
			return "", err
		}
		return "", nil
	}
	if v.Kind != yaml.ScalarNode {
		return "", p.errorf(v, join(m.path, key), "expected a string")
	}
	return v.Value, nil
}

// price reads a non-negative decimal. Prices are read from the literal
// text, never through float64, so "0.10" is exactly 100,000 micros.
func (p *parser) price(m *mapping, key, currency string, required bool) (*money.Amount, error) {
	v, ok := m.values[key]
	if !ok {
		if required {
			_, err := p.required(m, key)
			return nil, err
		}
		return nil, nil
	}
	return p.priceNode(v, join(m.path, key), currency)
}

func (p *parser) priceNode(v *yaml.Node, path, currency string) (*money.Amount, error) {
	if v.Kind != yaml.ScalarNode || v.Value == "" {
		return nil, p.errorf(v, path, "expected a price such as \"12.50\"")
	}
	a, err := money.Parse(currency, v.Value)
	if err != nil {
		return nil, p.errorf(v, path, "%v", err)
	}
	if a.Micros < 0 {
		return nil, p.errorf(v, path, "negative price %s", v.Value)
	}
	return &a, nil
}

func (p *parser) integer(m *mapping, key string) (int64, error) {
	v, ok := m.values[key]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil || n < 0 {
		return 0, p.errorf(v, join(m.path, key), "expected a non-negative whole number, got %q", v.Value)
	}
	return n, nil
}

func (p *parser) book(root *yaml.Node) (*Book, error) {
	top, err := p.mapping(root, "", "apiVersion", "kind", "name", "provider", "currency", "date", "source",
		"hoursPerMonth", "instanceTypes", "fallback", "storage", "loadBalancer", "loadBalancerNote",
		"snapshotGiBMonth", "egressGiB", "controlPlane", "controlPlaneHA", "notes")
	if err != nil {
		return nil, err
	}
	apiVersion, err := p.str(top, "apiVersion", true)
	if err != nil {
		return nil, err
	}
	if apiVersion != config.APIVersion {
		return nil, p.errorf(top.values["apiVersion"], "apiVersion", "got %q, expected %q", apiVersion, config.APIVersion)
	}
	kind, err := p.str(top, "kind", true)
	if err != nil {
		return nil, err
	}
	if kind != bookKind {
		return nil, p.errorf(top.values["kind"], "kind", "got %q, expected %q", kind, bookKind)
	}
	b := &Book{Instances: map[string]Instance{}, StorageClasses: map[string]money.Amount{}}
	if b.Name, err = p.str(top, "name", true); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"provider", &b.Provider}, {"date", &b.Date}, {"source", &b.Source}, {"loadBalancerNote", &b.LoadBalancerNote}} {
		if *f.dst, err = p.str(top, f.key, false); err != nil {
			return nil, err
		}
	}
	if b.Currency, err = p.str(top, "currency", true); err != nil {
		return nil, err
	}
	if !money.ValidCurrency(b.Currency) {
		return nil, p.errorf(top.values["currency"], "currency", "unknown currency %q; expected an ISO 4217 code such as USD or EUR", b.Currency)
	}
	if b.HoursPerMonth, err = p.integer(top, "hoursPerMonth"); err != nil {
		return nil, err
	}
	if b.HoursPerMonth == 0 {
		b.HoursPerMonth = 730
		if b.Provider == ProviderDigitalOcean {
			b.HoursPerMonth = 672
		}
	}

	fbNode, err := p.required(top, "fallback")
	if err != nil {
		return nil, err
	}
	fb, err := p.mapping(fbNode, "fallback", "cpuHour", "gibHour")
	if err != nil {
		return nil, err
	}
	cpu, err := p.price(fb, "cpuHour", b.Currency, true)
	if err != nil {
		return nil, err
	}
	mem, err := p.price(fb, "gibHour", b.Currency, true)
	if err != nil {
		return nil, err
	}
	b.CPUHour, b.GiBHour = *cpu, *mem

	stNode, err := p.required(top, "storage")
	if err != nil {
		return nil, err
	}
	st, err := p.mapping(stNode, "storage", "default", "classes")
	if err != nil {
		return nil, err
	}
	def, err := p.price(st, "default", b.Currency, true)
	if err != nil {
		return nil, err
	}
	b.StorageDefault = *def
	if cn, ok := st.values["classes"]; ok {
		classes, err := p.mapping(cn, "storage.classes")
		if err != nil {
			return nil, err
		}
		for name := range classes.values {
			a, err := p.price(classes, name, b.Currency, true)
			if err != nil {
				return nil, err
			}
			b.StorageClasses[name] = *a
		}
	}

	lb, err := p.price(top, "loadBalancer", b.Currency, true)
	if err != nil {
		return nil, err
	}
	b.LoadBalancer = *lb
	if b.Snapshot, err = p.price(top, "snapshotGiBMonth", b.Currency, false); err != nil {
		return nil, err
	}
	if b.Egress, err = p.price(top, "egressGiB", b.Currency, false); err != nil {
		return nil, err
	}
	cp, err := p.price(top, "controlPlane", b.Currency, false)
	if err != nil {
		return nil, err
	}
	b.ControlPlane = money.Amount{Currency: b.Currency}
	if cp != nil {
		b.ControlPlane = *cp
	}
	if b.ControlPlaneHA, err = p.price(top, "controlPlaneHA", b.Currency, false); err != nil {
		return nil, err
	}
	if n, ok := top.values["notes"]; ok {
		if n.Kind != yaml.SequenceNode {
			return nil, p.errorf(n, "notes", "expected a list of strings")
		}
		for _, c := range n.Content {
			b.Notes = append(b.Notes, c.Value)
		}
	}

	if in, ok := top.values["instanceTypes"]; ok {
		types, err := p.mapping(in, "instanceTypes")
		if err != nil {
			return nil, err
		}
		names := make([]string, 0, len(types.values))
		for name := range types.values {
			names = append(names, name)
		}
		// Report the first bad entry in file order.
		sort.Slice(names, func(i, j int) bool { return types.keys[names[i]].Line < types.keys[names[j]].Line })
		for _, name := range names {
			it, err := p.instance(b, types.values[name], "instanceTypes."+name)
			if err != nil {
				return nil, err
			}
			b.Instances[name] = it
		}
	}
	return b, nil
}

func (p *parser) instance(b *Book, n *yaml.Node, path string) (Instance, error) {
	m, err := p.mapping(n, path, "monthly", "hourly", "spot", "vcpu", "memoryGiB")
	if err != nil {
		return Instance{}, err
	}
	monthly, err := p.price(m, "monthly", b.Currency, false)
	if err != nil {
		return Instance{}, err
	}
	hourly, err := p.price(m, "hourly", b.Currency, false)
	if err != nil {
		return Instance{}, err
	}
	if monthly == nil && hourly == nil {
		return Instance{}, p.errorf(n, path+".monthly", "missing field \"monthly\" (or \"hourly\")")
	}
	it := Instance{Hourly: hourly}
	if monthly != nil {
		it.Monthly = *monthly
	} else {
		it.Monthly = hourly.MulRat(b.HoursPerMonth, 1)
	}
	if sv, ok := m.values["spot"]; ok {
		if b.Provider == ProviderDigitalOcean {
			// DOKS node pools have no spot or max-price field and no -spot
			// size exists: a spot price here could only inflate savings.
			return Instance{}, p.errorf(sv, path+".spot", "DigitalOcean has no spot Droplets; remove the spot price")
		}
		if it.Spot, err = p.priceNode(sv, path+".spot", b.Currency); err != nil {
			return Instance{}, err
		}
	}
	if it.VCPU, err = p.integer(m, "vcpu"); err != nil {
		return Instance{}, err
	}
	if it.MemoryGiB, err = p.integer(m, "memoryGiB"); err != nil {
		return Instance{}, err
	}
	return it, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
