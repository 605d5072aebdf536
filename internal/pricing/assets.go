package pricing

import (
	"fmt"

	"github.com/purserhq/purser/internal/money"
)

// Assets prices whole assets from a book, for callers that price what a
// change adds or removes (a node of a pool, a load balancer, a volume)
// rather than allocate a bill.
type Assets struct {
	Book *Book
}

// NodeMonthly returns the catalogue price of one node of instanceType. A
// type the book does not list is an error naming it: a saving priced from
// per-CPU fallback rates would look more exact than it is.
func (a Assets) NodeMonthly(instanceType string) (money.Amount, error) {
	if it, ok := a.Book.Instances[instanceType]; ok {
		return it.Monthly, nil
	}
	return money.Amount{}, fmt.Errorf("instance type %q is not in price book %s", instanceType, a.Book.Name)
}

// LoadBalancerMonthly returns the monthly price of one load balancer node unit.
func (a Assets) LoadBalancerMonthly() money.Amount { return a.Book.LoadBalancer }

// VolumeMonthlyPerGiB returns the GiB-month price of a storage class.
func (a Assets) VolumeMonthlyPerGiB(storageClass string) money.Amount {
	p, _ := a.Book.StoragePrice(storageClass)
	return p
}
