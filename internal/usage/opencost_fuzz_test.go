package usage

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
)

// FuzzDecodeAllocation feeds OpenCost allocation responses to the decoder.
// What another program sends becomes a column beside Purser's own costs:
// every amount must be the response's cost scaled to a month, never a
// number that wrapped around on the way.
func FuzzDecodeAllocation(f *testing.F) {
	real, err := os.ReadFile("testdata/opencost-allocation.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real)
	const w = `"start":"2026-11-16T00:00:00Z","end":"2026-11-23T00:00:00Z"`
	for _, body := range []string{
		`{"code":200,"data":[]}`,
		`{"code":500,"message":"boom"}`,
		// Duplicate keys, and keys that differ by case only.
		`{"code":200,"data":[{"a":{` + w + `,"totalCost":1},"a":{` + w + `,"totalCost":2}}]}`,
		`{"code":200,"data":[{"a":{` + w + `,"totalCost":1,"TOTALCOST":1e9}}]}`,
		// One namespace in two sets, and the idle entry twice.
		`{"data":[{"a":{` + w + `,"totalCost":1}},{"a":{` + w + `,"totalCost":2},"__idle__":{` + w + `,"totalCost":3}},{"__idle__":{` + w + `,"totalCost":4}}]}`,
		// Huge, tiny and negative numbers, and windows of a nanosecond.
		`{"data":[{"a":{` + w + `,"totalCost":1.7976931348623157e308}}]}`,
		`{"data":[{"a":{` + w + `,"totalCost":9.2e12},"b":{` + w + `,"totalCost":-9.2e12}}]}`,
		`{"data":[{"a":{"start":"2026-11-16T00:00:00Z","end":"2026-11-16T00:00:00.000000001Z","totalCost":1e6}}]}`,
		`{"data":[{"a":{"start":"0001-01-01T00:00:00Z","end":"9999-12-31T23:59:59Z","totalCost":1e-300}}]}`,
		`{"code":1e400}`,
		// Deep nesting.
		`{"data":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := decodeAllocation(body, "USD")
		if err != nil {
			if c != nil {
				t.Fatal("a comparison returned with an error")
			}
			return
		}
		if c == nil || c.ByNamespace == nil {
			t.Fatal("no comparison and no error")
		}
		// The same figures in floating point: each amount must be within
		// rounding of them (a micro per entry, or a relative 1e-9).
		var r openCostResponse
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		want, entries := map[string]float64{}, map[string]int{}
		for _, set := range r.Data {
			for name, a := range set {
				want[name] += a.TotalCost * openCostHoursPerMonth / a.End.Sub(a.Start).Hours() * 1e6
				entries[name]++
			}
		}
		check := func(name string, micros int64, currency string) {
			t.Helper()
			w := want[name]
			if currency != "USD" || math.Abs(float64(micros)-w) > float64(entries[name])+math.Abs(w)*1e-9 {
				t.Fatalf("%s: %d micro-%s, want about %.0f", name, micros, currency, w)
			}
		}
		check("__idle__", c.Idle.Micros, c.Idle.Currency)
		for name, a := range c.ByNamespace {
			if name == "__idle__" {
				t.Fatal("the idle entry counted as a namespace")
			}
			check(name, a.Micros, a.Currency)
		}
		for name := range want {
			if _, ok := c.ByNamespace[name]; !ok && name != "__idle__" {
				t.Fatalf("namespace %s of the response is missing", name)
			}
		}
	})
}
