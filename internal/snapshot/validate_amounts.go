package snapshot

import (
	"math"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Engines read snapshots that Validate has passed, but also snapshots
// built in code (tests, scenarios, a server's own objects) that nothing
// checked. The helpers below turn quantities into integers for them
// without ever wrapping: an amount out of range becomes the nearest bound,
// a sum that would overflow stops at the largest int64. A figure then may
// be clamped, but it never changes sign and never hides a huge amount as
// a small one.

// maxMilliCPU and maxBytes are MaxCPU in millicores and MaxBytes in
// bytes. MaxBytes, a binary amount, is held as a big decimal, so that
// comparing with it allocates; the checks of every container of every pod
// compare integers first.
const (
	maxMilliCPU = 1_000_000 * 1000
	maxBytes    = 1 << 60
)

// exceedsMaxBytes tells whether q, known not negative, is above MaxBytes.
func exceedsMaxBytes(q resource.Quantity) bool {
	if v, ok := q.AsInt64(); ok {
		return v > maxBytes
	}
	return q.Cmp(MaxBytes) > 0
}

// ClampedMilliCPU returns q in millicores, from 0 to MaxCPU.
func ClampedMilliCPU(q resource.Quantity) int64 {
	switch {
	case q.Sign() <= 0:
		return 0
	case q.Cmp(MaxCPU) > 0:
		return maxMilliCPU
	}
	return q.MilliValue()
}

// ClampedBytes returns q as an integer (bytes for memory and storage, a
// count for pod slots), from 0 to MaxBytes.
func ClampedBytes(q resource.Quantity) int64 {
	switch {
	case q.Sign() <= 0:
		return 0
	case exceedsMaxBytes(q):
		return maxBytes
	}
	return q.Value()
}

// AddSat returns a+b, or the int64 bound it would cross.
func AddSat(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}

// SubSat returns a-b, or the int64 bound it would cross.
func SubSat(a, b int64) int64 {
	if b == math.MinInt64 {
		if a >= 0 {
			return math.MaxInt64
		}
		return a - b
	}
	return AddSat(a, -b)
}

// Add adds r to q, each field with AddSat.
func (q Requests) Add(r Requests) Requests {
	return Requests{MilliCPU: AddSat(q.MilliCPU, r.MilliCPU), MemoryBytes: AddSat(q.MemoryBytes, r.MemoryBytes),
		Pods: AddSat(q.Pods, r.Pods)}
}
