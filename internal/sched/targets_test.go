package sched

import (
	"reflect"
	"testing"
)

func TestConfigure(t *testing.T) {
	t.Parallel()
	own := func(pool string) int {
		if pool == "b" {
			return 60
		}
		return 90
	}
	tests := []struct {
		name   string
		target func(string) int
		named  []string
		want   []int
		err    string
	}{
		{name: "no config: the default", want: []int{DefaultTargetUtilization, DefaultTargetUtilization}},
		{name: "per pool", target: own, named: []string{"b"}, want: []int{90, 60}},
		{name: "a pool the snapshot lacks", target: own, named: []string{"b", "c"}, want: []int{90, 60},
			err: `packing.pools[1].pool: no node pool "c" in the snapshot (pools: a, b)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			shapes := []NodeShape{shape("a"), shape("b")}
			err := Configure(shapes, tc.target, tc.named)
			if got := []int{shapes[0].TargetUtilization, shapes[1].TargetUtilization}; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("targets %v, want %v", got, tc.want)
			}
			if (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
}
