package pricing

import (
	"os"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/money"
)

// FuzzParse feeds price book files to Parse. What it accepts is what every
// cost and saving is multiplied from: each price must be a non-negative
// amount in the book's currency, a monthly price derived from an hourly
// one must be exactly hourly × hoursPerMonth, and the book must price any
// node, listed or not, without a wrong number.
func FuzzParse(f *testing.F) {
	f.Add(digitalOceanYAML)
	acme, err := os.ReadFile("testdata/acme.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(acme)
	const head = "apiVersion: purser.dev/v1alpha1\nkind: PriceBook\nname: b\ncurrency: USD\n"
	const rest = "fallback: {cpuHour: \"0.03\", gibHour: \"0.004\"}\nstorage: {default: \"0.1\"}\nloadBalancer: \"12\"\n"
	for _, body := range []string{
		rest,
		// Duplicate keys.
		"name: c\n" + rest,
		rest + "loadBalancer: \"13\"\n",
		"instanceTypes:\n  a: {monthly: \"1\"}\n  a: {monthly: \"2\"}\n" + rest,
		// Huge numbers, in every field that is multiplied.
		"hoursPerMonth: 9223372036854775807\n" + rest,
		"hoursPerMonth: 744\ninstanceTypes:\n  a: {hourly: \"9223372036854.775807\"}\n" + rest,
		"instanceTypes:\n  a: {monthly: \"99999999999999999999\", vcpu: 9223372036854775807, memoryGiB: -1}\n" + rest,
		"fallback: {cpuHour: \"9223372036854.775807\", gibHour: \"1e12\"}\nstorage: {default: \"0.1\"}\nloadBalancer: \"12\"\n",
		"fallback: {cpuHour: \"1e999999\", gibHour: \"-0\"}\nstorage: {default: \"0x10\"}\nloadBalancer: \"1/3\"\n",
		"provider: digitalocean\ninstanceTypes:\n  a: {hourly: \"0.1\", spot: \"0.01\"}\n" + rest,
		// Deep nesting and aliases.
		"notes: " + strings.Repeat("[", 300) + strings.Repeat("]", 300) + "\n" + rest,
		"x: &a [*a]\n" + rest,
		"instanceTypes:\n  a: &p {hourly: \"0.5\"}\n  b: *p\n  c: {<<: *p, spot: \"0.1\"}\n" + rest,
	} {
		f.Add([]byte(head + body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse("book.yaml", data)
		if err != nil {
			if b != nil {
				t.Fatal("a price book returned with an error")
			}
			return
		}
		if b == nil {
			t.Fatal("no price book and no error")
		}
		if b.HoursPerMonth < 1 || b.HoursPerMonth > maxHoursPerMonth {
			t.Fatalf("hoursPerMonth %d", b.HoursPerMonth)
		}
		check := func(what string, a *money.Amount) {
			t.Helper()
			if a == nil {
				return
			}
			if a.Micros < 0 || a.Currency != b.Currency {
				t.Fatalf("%s: %+v in a %s book", what, *a, b.Currency)
			}
		}
		check("cpuHour", &b.CPUHour)
		check("gibHour", &b.GiBHour)
		check("storage default", &b.StorageDefault)
		check("load balancer", &b.LoadBalancer)
		check("snapshot", b.Snapshot)
		check("egress", b.Egress)
		check("control plane", &b.ControlPlane)
		check("HA control plane", b.ControlPlaneHA)
		for name, a := range b.StorageClasses {
			check("storage class "+name, &a)
		}
		for _, name := range b.InstanceTypes() {
			it := b.Instances[name]
			check(name+" monthly", &it.Monthly)
			check(name+" hourly", it.Hourly)
			check(name+" spot", it.Spot)
			if it.VCPU < 0 || it.MemoryGiB < 0 {
				t.Fatalf("%s: vcpu %d, memoryGiB %d", name, it.VCPU, it.MemoryGiB)
			}
			if it.Spot != nil && b.Provider == ProviderDigitalOcean {
				t.Fatalf("%s: a spot price in a DigitalOcean book", name)
			}
			got, src, _, err := b.NodeMonthly(name, 1000, 1<<30)
			if err != nil || src != FromCatalogue || got != it.Monthly {
				t.Fatalf("%s: NodeMonthly %v %s %v, want its monthly price %v", name, got, src, err, it.Monthly)
			}
		}
		// An unlisted node, from small to absurd: a price or an error,
		// never a negative or wrapped one.
		for _, size := range [][2]int64{{0, 0}, {2000, 4 << 30}, {1 << 40, 1 << 60}, {1<<63 - 1, 1<<63 - 1}} {
			got, src, warn, err := b.NodeMonthly("fuzz-unlisted-type", size[0], size[1])
			if _, listed := b.Instances["fuzz-unlisted-type"]; listed {
				break
			}
			if err != nil {
				continue
			}
			if got.Micros < 0 || got.Currency != b.Currency || src != FromFallback || warn == "" {
				t.Fatalf("unlisted node of %d millicores and %d bytes: %+v %s %q", size[0], size[1], got, src, warn)
			}
			if got.Micros < b.CPUHour.Micros*(size[0]/1000) && size[0] < 1<<40 && b.CPUHour.Micros < 1<<20 {
				t.Fatalf("unlisted node of %d millicores costs %v a month, less than one hour of its CPUs", size[0], got)
			}
		}
	})
}
