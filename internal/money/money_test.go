package money

import (
	"errors"
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
	if got := New("USD", 10*Micro).MulRat(1, 3).Micros; got != 3333333 {
		t.Fatalf("MulRat = %d", got)
	}
	if _, err := Parse("USD", "0.0000001"); err == nil {
		t.Fatal("seven decimals accepted")
	}
}
