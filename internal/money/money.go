// Package money holds amounts as integer micro-units of a named currency,
// so that sums and allocations reconcile exactly. Amounts of different
// currencies are never added: the operation fails instead.
package money

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
)

// Micro is one millionth of a currency unit.
const Micro = 1_000_000

// Amount is an amount of money.
type Amount struct {
	Micros   int64  `json:"micros"`
	Currency string `json:"currency"`
}

// ErrCurrencyMismatch is returned when amounts of two currencies meet.
var ErrCurrencyMismatch = errors.New("currencies differ")

// Known ISO 4217 codes Purser accepts in price books.
func validCurrency(c string) bool {
	switch c {
	case "USD", "EUR", "GBP", "CHF", "CAD", "AUD", "JPY", "INR", "SGD", "SEK", "NOK", "DKK", "PLN", "BRL":
		return true
	}
	return false
}

// ValidCurrency reports whether c is a currency code Purser knows.
func ValidCurrency(c string) bool { return validCurrency(c) }

// New returns units + micros/1e6 of currency.
func New(currency string, micros int64) Amount { return Amount{Micros: micros, Currency: currency} }

// FromFloat converts a price read from a catalogue (e.g. 0.10) to micros,
// rounding half away from zero. Use it at the edges only.
func FromFloat(currency string, v float64) Amount {
	return Amount{Micros: int64(math.Round(v * Micro)), Currency: currency}
}

// Parse reads "12.34" (up to six decimals) in currency.
func Parse(currency, s string) (Amount, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return Amount{}, fmt.Errorf("invalid amount %q", s)
	}
	r.Mul(r, big.NewRat(Micro, 1))
	if !r.IsInt() {
		return Amount{}, fmt.Errorf("amount %q has more than six decimals", s)
	}
	if !r.Num().IsInt64() {
		return Amount{}, fmt.Errorf("amount %q is out of range", s)
	}
	return Amount{Micros: r.Num().Int64(), Currency: currency}, nil
}

// Add returns a+b; both must share a currency (a zero Amount adopts b's).
func (a Amount) Add(b Amount) (Amount, error) {
	c, err := common(a, b)
	if err != nil {
		return Amount{}, err
	}
	return Amount{Micros: a.Micros + b.Micros, Currency: c}, nil
}

// Sub returns a-b.
func (a Amount) Sub(b Amount) (Amount, error) {
	c, err := common(a, b)
	if err != nil {
		return Amount{}, err
	}
	return Amount{Micros: a.Micros - b.Micros, Currency: c}, nil
}

func common(a, b Amount) (string, error) {
	switch {
	case a.Currency == b.Currency:
		return a.Currency, nil
	case a.Currency == "" && a.Micros == 0:
		return b.Currency, nil
	case b.Currency == "" && b.Micros == 0:
		return a.Currency, nil
	}
	return "", fmt.Errorf("%w: %s and %s", ErrCurrencyMismatch, a.Currency, b.Currency)
}

// MulRat returns a × num/den, rounded half away from zero.
func (a Amount) MulRat(num, den int64) Amount {
	if den == 0 {
		return Amount{Currency: a.Currency}
	}
	r := new(big.Rat).SetFrac(big.NewInt(a.Micros), big.NewInt(1))
	r.Mul(r, big.NewRat(num, den))
	return Amount{Micros: roundRat(r), Currency: a.Currency}
}

func roundRat(r *big.Rat) int64 {
	num, den := new(big.Int).Set(r.Num()), r.Denom()
	neg := num.Sign() < 0
	num.Abs(num)
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if m.Mul(m, big.NewInt(2)).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	return q.Int64()
}

// Split divides a over weights so that the parts add up to a exactly
// (largest remainder method). Zero total weight gives zero parts; a
// negative amount (a credit) splits like its absolute value, negated.
func (a Amount) Split(weights []int64) []Amount {
	if a.Micros < 0 {
		parts := Amount{Micros: -a.Micros, Currency: a.Currency}.Split(weights)
		for i := range parts {
			parts[i].Micros = -parts[i].Micros
		}
		return parts
	}
	parts := make([]Amount, len(weights))
	var total int64
	for _, w := range weights {
		total += w
	}
	for i := range parts {
		parts[i].Currency = a.Currency
	}
	if total == 0 {
		return parts
	}
	type rem struct {
		i int
		r *big.Int
	}
	rems := make([]rem, len(weights))
	var given int64
	for i, w := range weights {
		n := new(big.Int).Mul(big.NewInt(a.Micros), big.NewInt(w))
		q, m := new(big.Int).QuoRem(n, big.NewInt(total), new(big.Int))
		parts[i].Micros = q.Int64()
		given += q.Int64()
		rems[i] = rem{i, m}
	}
	left := a.Micros - given
	// Hand the leftover micros to the largest remainders, earliest first.
	for left > 0 {
		best := -1
		for j := range rems {
			if rems[j].r.Sign() > 0 && (best < 0 || rems[j].r.Cmp(rems[best].r) > 0) {
				best = j
			}
		}
		if best < 0 {
			break
		}
		parts[rems[best].i].Micros++
		rems[best].r.SetInt64(0)
		left--
	}
	return parts
}

// Float returns the amount in units, for display and charts only.
func (a Amount) Float() float64 { return float64(a.Micros) / Micro }

// String formats the amount with two decimals: "USD 1,289.30".
func (a Amount) String() string { return a.Currency + " " + a.Format(2) }

// Format formats the number with thousands separators and the given decimals.
func (a Amount) Format(decimals int) string {
	m := a.Micros
	neg := m < 0
	if neg {
		m = -m
	}
	scale := int64(math.Pow10(6 - decimals))
	v := (m + scale/2) / scale
	unit := int64(math.Pow10(decimals))
	whole, frac := v/unit, v%unit
	s := fmt.Sprintf("%d", whole)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if decimals > 0 {
		fmt.Fprintf(&b, ".%0*d", decimals, frac)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
