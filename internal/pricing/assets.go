package pricing

import (
	"github.com/purserhq/purser/internal/money"
)

// Assets prices whole assets from a book, for callers that price what a
// change adds or removes (a node of a pool, a load balancer, a volume)
// rather than allocate a bill.
type Assets struct {
	Book *Book
}

// NodeMonthly prices one node of instanceType whose capacity is cpuMilli
// and memBytes exactly as `purser cost` prices every node (Book.NodeMonthly):
// the catalogue price, else the per-CPU and per-GiB fallback rates with a
// warning that names the type and shows the arithmetic. A saving priced
// otherwise than the bill it comes out of would not reconcile with it.
// The error is a fallback price too large for an Amount.
func (a Assets) NodeMonthly(instanceType string, cpuMilli, memBytes int64) (money.Amount, string, error) {
	price, _, warn, err := a.Book.NodeMonthly(instanceType, cpuMilli, memBytes)
	return price, warn, err
}

// LoadBalancerMonthly returns the monthly price of one load balancer node unit.
func (a Assets) LoadBalancerMonthly() money.Amount { return a.Book.LoadBalancer }

// VolumeMonthlyPerGiB returns the GiB-month price of a storage class.
func (a Assets) VolumeMonthlyPerGiB(storageClass string) money.Amount {
	p, _ := a.Book.StoragePrice(storageClass)
	return p
}
