package pricing

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/yamldoc"
)

func usd(s string) money.Amount {
	a, err := money.Parse("USD", s)
	if err != nil {
		panic(err)
	}
	return a
}

func TestDigitalOceanCatalogue(t *testing.T) {
	t.Parallel()
	b, err := DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	if b.Date == "" || !strings.Contains(b.Source, "digitalocean.com/pricing") {
		t.Errorf("catalogue must be dated and sourced: date %q source %q", b.Date, b.Source)
	}
	want := map[string]string{
		"s-1vcpu-2gb": "12", "s-2vcpu-4gb": "24", "s-4vcpu-8gb": "48", "s-8vcpu-16gb": "96",
		"g-2vcpu-8gb": "63", "g-4vcpu-16gb": "126", "c-2": "42", "c-4": "84", "m-2vcpu-16gb": "84",
	}
	for slug, price := range want {
		got, src, warn, _ := b.NodeMonthly(slug, 1000, 1<<30)
		if got != usd(price) || src != FromCatalogue || warn != "" {
			t.Errorf("%s: got %v %s %q, want USD %s from the catalogue", slug, got, src, warn, price)
		}
		// Billing caps at 672 hours: the hourly price times 672 is the
		// monthly price, to within the API's five-decimal rounding.
		it := b.Instances[slug]
		h, err := it.Hourly.Mul(672)
		if err != nil {
			t.Fatal(err)
		}
		if d := h.Micros - it.Monthly.Micros; d < -5000 || d > 5000 {
			t.Errorf("%s: hourly × 672 = %v, monthly %v", slug, h, it.Monthly)
		}
	}
	if len(b.Instances) != len(want) {
		t.Errorf("catalogue lists %v; DOMAIN lists %d sizes", b.InstanceTypes(), len(want))
	}
	checks := []struct {
		name string
		got  money.Amount
		want string
	}{
		{"load balancer", b.LoadBalancer, "12"},
		{"volume GiB-month", b.StorageDefault, "0.10"},
		{"snapshot GiB-month", *b.Snapshot, "0.06"},
		{"egress GiB", *b.Egress, "0.01"},
		{"control plane", b.ControlPlane, "0"},
		{"HA control plane", *b.ControlPlaneHA, "40"},
	}
	for _, c := range checks {
		if c.got != usd(c.want) {
			t.Errorf("%s: got %v, want USD %s", c.name, c.got, c.want)
		}
	}
	if b.HoursPerMonth != 672 {
		t.Errorf("hours per month %d, want 672", b.HoursPerMonth)
	}
}

func TestUnknownInstanceTypeFallsBack(t *testing.T) {
	t.Parallel()
	b, err := DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	// s-2vcpu-4gb-amd has the shape of s-2vcpu-4gb but another price: it
	// must not borrow s-2vcpu-4gb's, and must not be free.
	got, src, warn, _ := b.NodeMonthly("s-2vcpu-4gb-amd", 2000, 4<<30)
	// 2 × 0.008929 × 672 + 4 × 0.004464 × 672 = 12.000576 + 11.999232
	if want := usd("23.999808"); got != want {
		t.Errorf("fallback price %v, want %v", got, want)
	}
	if src != FromFallback || !strings.Contains(warn, "s-2vcpu-4gb-amd") || !strings.Contains(warn, "not in price book") {
		t.Errorf("want a warning naming the type, got %s %q", src, warn)
	}
	got, _, warn, _ = b.NodeMonthly("", 1500, 3<<29)
	if got.Micros <= 0 || !strings.Contains(warn, "no instance-type label") {
		t.Errorf("unlabelled node: %v %q", got, warn)
	}
}

func TestParseCustomBook(t *testing.T) {
	t.Parallel()
	b, err := Load("testdata/acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	eur := func(s string) money.Amount {
		a, _ := money.Parse("EUR", s)
		return a
	}
	if b.Currency != "EUR" || b.HoursPerMonth != 730 {
		t.Fatalf("currency %s hours %d", b.Currency, b.HoursPerMonth)
	}
	// Hourly only: 0.096 × 730 = 70.08.
	if got := b.Instances["m5.large"].Monthly; got != eur("70.08") {
		t.Errorf("m5.large monthly %v", got)
	}
	if s := b.Instances["m5.large"].Spot; s == nil || *s != eur("0.035") {
		t.Errorf("spot price of another provider must be kept, got %v", s)
	}
	if p, ok := b.StoragePrice("gp3"); !ok || p != eur("0.08") {
		t.Errorf("gp3 %v %v", p, ok)
	}
	if p, ok := b.StoragePrice("st1"); ok || p != eur("0.1") {
		t.Errorf("unknown class must use the default: %v %v", p, ok)
	}
}

func TestBadBooks(t *testing.T) {
	t.Parallel()
	head := "apiVersion: purser.dev/v1alpha1\nkind: PriceBook\nname: bad\n"
	good := "fallback: {cpuHour: \"0.03\", gibHour: \"0.004\"}\nstorage: {default: \"0.1\"}\nloadBalancer: \"12\"\n"
	tests := []struct {
		name, body string
		line       int
		want       string
	}{
		{"unknown currency", "currency: ZZZ\n" + good, 4, `unknown currency "ZZZ"`},
		{"missing currency", good, 1, `missing field "currency"`},
		{"negative price", "currency: USD\nfallback: {cpuHour: \"0.03\", gibHour: \"0.004\"}\nstorage: {default: \"0.1\"}\nloadBalancer: \"-12\"\n", 7, "negative price -12"},
		{"negative instance price", "currency: USD\n" + good + "instanceTypes:\n  s-1vcpu-2gb: {monthly: \"12\"}\n  c-2:\n    monthly: \"-42\"\n", 11, "negative price -42"},
		{"missing fallback rate", "currency: USD\nfallback:\n  cpuHour: \"0.03\"\nstorage: {default: \"0.1\"}\nloadBalancer: \"12\"\n", 5, `missing field "gibHour"`},
		{"missing instance price", "currency: USD\n" + good + "instanceTypes:\n  c-2: {vcpu: 2}\n", 9, `missing field "monthly" (or "hourly")`},
		{"missing load balancer", "currency: USD\nfallback: {cpuHour: \"0.03\", gibHour: \"0.004\"}\nstorage: {default: \"0.1\"}\n", 1, `missing field "loadBalancer"`},
		{"unknown field", "currency: USD\n" + good + "loadbalancer: \"12\"\n", 8, "unknown field"},
		{"not a number", "currency: USD\nfallback: {cpuHour: cheap, gibHour: \"0.004\"}\nstorage: {default: \"0.1\"}\nloadBalancer: \"12\"\n", 5, `invalid amount "cheap"`},
		{"spot on DigitalOcean", "provider: digitalocean\ncurrency: USD\n" + good + "instanceTypes:\n  s-2vcpu-4gb: {monthly: \"24\", spot: \"0.01\"}\n", 10, "no spot Droplets"},
		{"fractional hours", "currency: USD\nhoursPerMonth: 730.9\n" + good, 5, "hoursPerMonth: got a number 730.9, expected a whole number"},
		{"absurd hours", "currency: USD\nhoursPerMonth: 9223372036854775807\n" + good, 5, "hoursPerMonth: expected a whole number from 0 (the default) to 744"},
		{"huge hourly price", "currency: USD\n" + good + "instanceTypes:\n  m5.large: {hourly: \"9000000000000\"}\n", 9, "amount out of range"},
		{"fractional vcpu", "currency: USD\n" + good + "instanceTypes:\n  m5.large: {hourly: \"0.1\", vcpu: 2.5}\n", 9, "instanceTypes.m5.large.vcpu: got a number 2.5, expected a whole number"},
		{"list for a price", "currency: USD\n" + good + "egressGiB: [\"0.09\"]\n", 8, "egressGiB: got a list, expected a string"},
		{"wrong kind", "", 2, `expected "PriceBook"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := head + tc.body
			if tc.name == "wrong kind" {
				data = strings.Replace(head, "PriceBook", "Config", 1)
			}
			_, err := Parse("bad.yaml", []byte(data))
			var ce *yamldoc.Error
			if !errors.As(err, &ce) {
				t.Fatalf("want a yamldoc.Error, got %v", err)
			}
			if ce.File != "bad.yaml" || ce.Line != tc.line || !strings.Contains(ce.Error(), tc.want) {
				t.Errorf("got %v (line %d), want bad.yaml:%d ... %s", err, ce.Line, tc.line, tc.want)
			}
		})
	}
}

// A node the book does not list, with an absurd capacity, is an error
// naming its type, not a wrapped or negative price.
func TestNodeMonthlyFallbackOverflow(t *testing.T) {
	t.Parallel()
	b, err := DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	// cpu: 1e16 is 1e19 millicores: MilliValue saturates at MaxInt64, and
	// millicores × hours wrapped to a negative price before.
	for _, tc := range []struct {
		name      string
		cpu, mem  int64
		wantInErr string
	}{
		{"cpu", math.MaxInt64, 0, "CPU × 672 hours"},
	} {
		got, _, _, err := b.NodeMonthly("x-absurd", tc.cpu, tc.mem)
		if !errors.Is(err, money.ErrOverflow) || !strings.Contains(err.Error(), "instance type x-absurd") || !strings.Contains(err.Error(), tc.wantInErr) {
			t.Errorf("%s: got %v, %v; want an overflow naming x-absurd and %q", tc.name, got, err, tc.wantInErr)
		}
	}
}
