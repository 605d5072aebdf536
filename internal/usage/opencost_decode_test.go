package usage

import (
	"strings"
	"testing"
)

// A cost too large for a monthly amount is an error naming the allocation
// and the field, never a wrapped (negative) amount.
func TestDecodeAllocationOutOfRange(t *testing.T) {
	t.Parallel()
	const week = `"start":"2026-11-16T00:00:00Z","end":"2026-11-23T00:00:00Z"`
	tests := []struct {
		name, body, want string
	}{
		{"huge cost", `{"data":[{"web":{` + week + `,"totalCost":1e300}}]}`,
			"allocation web: totalCost 1e+300 over 168 hours is out of range"},
		{"short window", `{"data":[{"web":{"start":"2026-11-16T00:00:00Z","end":"2026-11-16T00:00:00.000000001Z","totalCost":1e6}}]}`,
			"allocation web: totalCost 1e+06 over 2.77"},
		{"sum past the range", `{"data":[{"__idle__":{` + week + `,"totalCost":2e12}},{"__idle__":{` + week + `,"totalCost":2e12}}]}`,
			"allocation __idle__: totalCost: "},
		{"in range", `{"data":[{"web":{` + week + `,"totalCost":1e9}}]}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := decodeAllocation([]byte(tc.body), "USD")
			if tc.want == "" {
				if err != nil || c.ByNamespace["web"].Micros <= 0 {
					t.Fatalf("got %+v, %v", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %+v, error %v; want an error containing %q", c, err, tc.want)
			}
		})
	}
}
