package cost

import (
	"fmt"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/sched"
	"github.com/purserhq/purser/internal/snapshot"
)

// Rightsizing is what resizing each node pool to what its pods request
// would save a month, with nodes full at a target utilisation of their
// allocatable: an opportunity that needs no consolidation. `purser plan`
// computes the same figure with the same packing and lists the pool steps.
type Rightsizing struct {
	Pools   []PoolResize `json:"pools"`
	Monthly money.Amount `json:"monthly"`
	// Unplaced are Pending pods no pool's node can hold. A running pod
	// its pool's model cannot hold keeps the pool at its size instead
	// (PoolResize.Note).
	Unplaced []string `json:"unplaced,omitempty"`
}

// PoolResize is one pool today and the nodes its pods need.
type PoolResize struct {
	Pool              string `json:"pool"`
	InstanceType      string `json:"instanceType"`
	TargetUtilization int    `json:"targetUtilization"`
	Nodes             int    `json:"nodes"`
	Needed            int    `json:"needed"`
	// NodeMonthly prices one node of the pool as the plan prices it, by
	// the book's price of its instance type or else by its capacity; zero
	// for a mixed pool, which is no one size. Monthly is (Nodes - Needed)
	// of them, negative when the pool must grow.
	NodeMonthly money.Amount `json:"nodeMonthly"`
	Monthly     money.Amount `json:"monthly"`
	// Note says why the pool keeps its nodes whatever its pods request
	// (sched.PoolPacking.Kept): its nodes differ, or a pod it runs does
	// not fit its node model. "" for a pool the packing resizes.
	Note string `json:"note,omitempty"`
}

// rightsize packs today's pods onto today's pools and prices the nodes a
// resize frees or adds, one node of a pool as the plan prices it.
func rightsize(ix *snapshot.Index, target func(pool string) int, named []string, book *pricing.Book) (*Rightsizing, error) {
	shapes := sched.Pools(ix)
	if err := sched.Configure(shapes, target, named); err != nil {
		return nil, err
	}
	if len(shapes) == 0 {
		return nil, nil
	}
	daemons, pods := sched.Demands(ix)
	packed := sched.Pack(shapes, daemons, pods)
	rs := &Rightsizing{Monthly: money.Amount{Currency: book.Currency}, Unplaced: packed.Unplaced}
	for _, sh := range shapes {
		pp := packed.Pools[sh.Pool]
		p := PoolResize{Pool: sh.Pool, InstanceType: sh.InstanceType, TargetUtilization: sh.TargetUtilization,
			Nodes: sh.Today, Needed: pp.Needed, NodeMonthly: money.Amount{Currency: book.Currency}, Note: pp.Kept()}
		// The warning of a derived price is the one allocateNodes gave
		// for the same node.
		if sh.Mixed == "" {
			price, _, err := pricing.Assets{Book: book}.NodeMonthly(sh.InstanceType, sh.CapacityMilliCPU, sh.CapacityMemoryBytes)
			if err != nil {
				return nil, fmt.Errorf("right-sizing pool %s: %w", sh.Pool, err)
			}
			p.NodeMonthly = price
		}
		m, err := p.NodeMonthly.Mul(int64(p.Nodes - p.Needed))
		if err != nil {
			return nil, fmt.Errorf("right-sizing pool %s: %d nodes × %s: %w", sh.Pool, p.Nodes-p.Needed, p.NodeMonthly, err)
		}
		p.Monthly = m
		sum, err := rs.Monthly.Add(p.Monthly)
		if err != nil {
			return nil, fmt.Errorf("right-sizing pool %s: %w", sh.Pool, err)
		}
		rs.Monthly = sum
		rs.Pools = append(rs.Pools, p)
	}
	return rs, nil
}
