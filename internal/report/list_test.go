package report

import "testing"

func TestFirstOf(t *testing.T) {
	t.Parallel()
	names := []string{"a", "b", "c", "d"}
	for n, want := range map[int]string{4: "a, b, c, d", 9: "a, b, c, d", 2: "a, b and 2 more"} {
		if got := firstOf(names, n); got != want {
			t.Errorf("firstOf(%d) = %q, want %q", n, got, want)
		}
	}
}
