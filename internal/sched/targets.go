package sched

import (
	"fmt"
	"strings"

	"github.com/purserhq/purser/internal/yamldoc"
)

// Configure sets each shape's target utilisation from target (nil: the
// default for every pool) and checks named, the pools purser.yaml's
// plan.packing.pools lists in its order: one the snapshot lacks is a
// typo the packing would silently ignore. The plan and `purser cost`
// both configure their packing here, so one config is accepted or
// refused by both, with the same *yamldoc.FieldError, whose path is
// relative to the plan section (packing.pools[i].pool).
func Configure(shapes []NodeShape, target func(pool string) int, named []string) error {
	known := make(map[string]bool, len(shapes))
	names := make([]string, len(shapes))
	for i := range shapes {
		shapes[i].TargetUtilization = DefaultTargetUtilization
		if target != nil {
			shapes[i].TargetUtilization = target(shapes[i].Pool)
		}
		known[shapes[i].Pool] = true
		names[i] = shapes[i].Pool
	}
	for i, p := range named {
		if !known[p] {
			return &yamldoc.FieldError{Path: fmt.Sprintf("packing.pools[%d].pool", i),
				Msg: fmt.Sprintf("no node pool %q in the snapshot (pools: %s)", p, strings.Join(names, ", "))}
		}
	}
	return nil
}
