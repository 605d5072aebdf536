package money

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestSplitReconciles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		amount  int64
		weights []int64
		want    []int64
	}{
		{"even", 100, []int64{1, 1}, []int64{50, 50}},
		{"remainder goes to largest", 100, []int64{1, 1, 1}, []int64{34, 33, 33}},
		{"uneven", 10, []int64{3, 7}, []int64{3, 7}},
		{"zero weight", 10, []int64{0, 0}, []int64{0, 0}},
		{"one weight zero", 7, []int64{0, 2}, []int64{0, 7}},
		{"negative", -100, []int64{1, 1, 1}, []int64{-34, -33, -33}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			parts := New("USD", tt.amount).Split(tt.weights)
			for i, p := range parts {
				if p.Micros != tt.want[i] {
					t.Fatalf("part %d = %d, want %d", i, p.Micros, tt.want[i])
				}
			}
		})
	}
}

func TestArithmetic(t *testing.T) {
	t.Parallel()
	a, err := Parse("USD", "1289.30")
	if err != nil {
		t.Fatal(err)
	}
	if got := a.String(); got != "USD 1,289.30" {
		t.Fatalf("String = %q", got)
	}
	if _, err := a.Add(New("EUR", 1)); !errors.Is(err, ErrCurrencyMismatch) {
		t.Fatalf("adding EUR to USD: err = %v", err)
	}
	if got, _ := New("USD", 10*Micro).MulRat(1, 3); got.Micros != 3333333 {
		t.Fatalf("MulRat = %d", got.Micros)
	}
	if _, err := Parse("USD", "0.0000001"); err == nil {
		t.Fatal("seven decimals accepted")
	}
}

func TestOverflow(t *testing.T) {
	big := New("USD", math.MaxInt64-1)
	if _, err := big.Add(New("USD", 2)); !errors.Is(err, ErrOverflow) {
		t.Errorf("Add: err %v, want ErrOverflow", err)
	}
	if _, err := New("USD", math.MinInt64+1).Add(New("USD", -2)); !errors.Is(err, ErrOverflow) {
		t.Errorf("Add negative: err %v, want ErrOverflow", err)
	}
	if _, err := New("USD", math.MinInt64+1).Sub(New("USD", 2)); !errors.Is(err, ErrOverflow) {
		t.Errorf("Sub: err %v, want ErrOverflow", err)
	}
	if _, err := big.Sub(New("USD", -2)); !errors.Is(err, ErrOverflow) {
		t.Errorf("Sub of a negative: err %v, want ErrOverflow", err)
	}
	if got, err := big.Sub(big); err != nil || got.Micros != 0 {
		t.Errorf("Sub self = %v, %v", got, err)
	}
	// 12 USD (a DigitalOcean balancer node) × 9223372036854775807 units.
	if _, err := New("USD", 12*Micro).MulRat(math.MaxInt64, 1); !errors.Is(err, ErrOverflow) {
		t.Errorf("MulRat: err %v, want ErrOverflow", err)
	}
	// 1e13 USD a month × 1000 does not fit either.
	if _, err := New("USD", 10_000_000_000_000*Micro/1000).Mul(1_000_000); !errors.Is(err, ErrOverflow) {
		t.Errorf("Mul: err %v, want ErrOverflow", err)
	}
	if got, err := New("USD", 5*Micro).Mul(3); err != nil || got.Micros != 15*Micro {
		t.Errorf("Mul = %v, %v", got, err)
	}
	// Weights whose sum exceeds int64 still split exactly.
	parts := New("USD", 10).Split([]int64{math.MaxInt64, math.MaxInt64})
	if parts[0].Micros+parts[1].Micros != 10 || parts[0].Micros != 5 {
		t.Errorf("Split of huge weights = %v", parts)
	}
}

func TestDecimalAndJSON(t *testing.T) {
	tests := []struct {
		micros int64
		want   string
	}{
		{0, "0.00"},
		{1, "0.000001"},
		{1_289_300_000, "1289.30"},
		{-12_500_000, "-12.50"},
		{123_456_789, "123.456789"},
		{math.MaxInt64, "9223372036854.775807"},
		{math.MinInt64, "-9223372036854.775808"},
	}
	for _, tt := range tests {
		a := New("USD", tt.micros)
		if got := a.Decimal(); got != tt.want {
			t.Errorf("Decimal(%d) = %q, want %q", tt.micros, got, tt.want)
		}
		js, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"amount":"` + tt.want + `","currency":"USD"}`; string(js) != want {
			t.Errorf("Marshal(%d) = %s, want %s", tt.micros, js, want)
		}
		var back Amount
		if err := json.Unmarshal(js, &back); err != nil || back != a {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", js, back, err, a)
		}
	}
}

func TestUnmarshalJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    Amount
		wantErr string
	}{
		{`{"amount":"55","currency":"EUR"}`, New("EUR", 55_000_000), ""},
		{`{"micros":55000000,"currency":"EUR"}`, Amount{}, "unknown field"},
		{`{"amount":"1.0000001","currency":"EUR"}`, Amount{}, "more than six decimals"},
		{`{"currency":"EUR"}`, Amount{}, "missing"},
		{`{"AMOUNT":"1","currency":"EUR"}`, Amount{}, "unknown field"},
		{`{"amount":"1","amount":"2","currency":"EUR"}`, Amount{}, "duplicate field"},
		{`{"amount":1,"currency":"EUR"}`, Amount{}, "cannot unmarshal"},
	}
	for _, tt := range tests {
		var got Amount
		err := json.Unmarshal([]byte(tt.in), &got)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Unmarshal(%s) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
