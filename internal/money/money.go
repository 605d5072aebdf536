// Package money holds amounts as integer micro-units of a named currency,
// so that sums and allocations reconcile exactly. Amounts of different
// currencies are never added: the operation fails instead.
package money

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	kjson "sigs.k8s.io/json"
)

// Micro is one millionth of a currency unit.
const Micro = 1_000_000

// Amount is an amount of money.
type Amount struct {
	Micros   int64
	Currency string
}

// ErrCurrencyMismatch is returned when amounts of two currencies meet.
var ErrCurrencyMismatch = errors.New("currencies differ")

// ErrOverflow is returned when a result does not fit in an Amount (about
// ±9.2 trillion units): the operation fails rather than wrap around.
var ErrOverflow = errors.New("amount out of range")

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
	sum := a.Micros + b.Micros
	// Signed overflow: both operands share a sign the sum lacks.
	if (a.Micros >= 0) == (b.Micros >= 0) && (sum >= 0) != (a.Micros >= 0) {
		return Amount{}, fmt.Errorf("%w: %s + %s", ErrOverflow, a.Format(2), b.Format(2))
	}
	return Amount{Micros: sum, Currency: c}, nil
}

// Sub returns a-b.
func (a Amount) Sub(b Amount) (Amount, error) {
	c, err := common(a, b)
	if err != nil {
		return Amount{}, err
	}
	diff := a.Micros - b.Micros
	// Signed overflow: the operands differ in sign and the difference
	// takes b's.
	if (a.Micros >= 0) != (b.Micros >= 0) && (diff >= 0) != (a.Micros >= 0) {
		return Amount{}, fmt.Errorf("%w: %s - %s", ErrOverflow, a.Format(2), b.Format(2))
	}
	return Amount{Micros: diff, Currency: c}, nil
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

// MulRat returns a × num/den, rounded half away from zero; a zero den
// gives zero. A result beyond the range of an Amount is ErrOverflow,
// never a wrapped or saturated number.
func (a Amount) MulRat(num, den int64) (Amount, error) {
	if den == 0 {
		return Amount{Currency: a.Currency}, nil
	}
	r := new(big.Rat).SetFrac(big.NewInt(a.Micros), big.NewInt(1))
	r.Mul(r, big.NewRat(num, den))
	m, ok := roundRat(r)
	if !ok {
		return Amount{}, fmt.Errorf("%w: %s × %d/%d", ErrOverflow, a.String(), num, den)
	}
	return Amount{Micros: m, Currency: a.Currency}, nil
}

// Mul returns a × n; see MulRat.
func (a Amount) Mul(n int64) (Amount, error) { return a.MulRat(n, 1) }

// roundRat rounds r half away from zero and reports whether the result
// fits in an int64.
func roundRat(r *big.Rat) (int64, bool) {
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
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
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
	// The total is summed in a big.Int: many large weights must not wrap.
	total := new(big.Int)
	for _, w := range weights {
		total.Add(total, big.NewInt(w))
	}
	for i := range parts {
		parts[i].Currency = a.Currency
	}
	if total.Sign() == 0 {
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
		q, m := new(big.Int).QuoRem(n, total, new(big.Int))
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

// Decimal returns the exact amount as a plain decimal number, with at
// least two decimals and no more than the six an Amount holds: "1289.30",
// "0.000001", "-12.50". Documents carry it as a string so that no JSON
// reader turns it into a binary float.
func (a Amount) Decimal() string {
	// uint64 holds the magnitude of every int64, math.MinInt64 included.
	m := uint64(a.Micros)
	sign := ""
	if a.Micros < 0 {
		m = -m
		sign = "-"
	}
	frac := fmt.Sprintf("%06d", m%Micro)
	frac = strings.TrimRight(frac, "0")
	for len(frac) < 2 {
		frac += "0"
	}
	return fmt.Sprintf("%s%d.%s", sign, m/Micro, frac)
}

// jsonAmount is an Amount as documents carry it.
type jsonAmount struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// MarshalJSON writes {"amount": "1289.30", "currency": "USD"}.
func (a Amount) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonAmount{Amount: a.Decimal(), Currency: a.Currency})
}

// UnmarshalJSON reads what MarshalJSON writes. An unknown field (also a
// key that differs only in case), a repeated key or an amount with more
// than six decimals is an error.
func (a *Amount) UnmarshalJSON(data []byte) error {
	var v struct {
		Amount   *string `json:"amount"`
		Currency string  `json:"currency"`
	}
	// Case-sensitive and strict like the rest of a plan file: "AMOUNT"
	// or a repeated key is not silently taken.
	strict, err := kjson.UnmarshalStrict(data, &v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return fmt.Errorf("money: %w", err)
	}
	if len(strict) > 0 {
		return fmt.Errorf("money: %w", errors.Join(strict...))
	}
	if v.Amount == nil {
		return fmt.Errorf("money: amount missing")
	}
	p, err := Parse(v.Currency, *v.Amount)
	if err != nil {
		return fmt.Errorf("money: %w", err)
	}
	*a = p
	return nil
}
