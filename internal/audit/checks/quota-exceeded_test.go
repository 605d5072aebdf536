package checks

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
)

// A replica count from a hostile or mistaken manifest is multiplied in a
// few steps and exactly.
func TestMulQuantity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q    string
		n    int64
		want string
	}{
		{"500m", 3, "1500m"},
		{"1Gi", 0, "0"},
		{"1Gi", 2147483647, "2147483647Gi"},
		{"250m", 1 << 40, "274877906944"},
	}
	for _, tt := range tests {
		got := mulQuantity(resource.MustParse(tt.q), tt.n)
		if want := resource.MustParse(tt.want); got.Cmp(want) != 0 {
			t.Errorf("%s × %d = %s, want %s", tt.q, tt.n, got.String(), want.String())
		}
	}
}
