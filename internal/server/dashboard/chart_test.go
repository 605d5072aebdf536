package dashboard

import (
	"fmt"
	"math"
	"testing"
)

// TestStackedFitsALaptop: however many bars, a chart stays within its
// width, bars scale to the tallest, and labels thin out from the newest.
func TestStackedFitsALaptop(t *testing.T) {
	tests := []struct {
		bars, wantWidth, wantLabels int
	}{
		{0, 64, 0},
		{3, 160, 3},
		{19, 928, 19},
		{30, 960, 15},
		{400, 960, 24},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.bars), func(t *testing.T) {
			var ss []series
			for i := range tt.bars {
				ss = append(ss, series{Label: fmt.Sprint(i), Values: []int64{int64(i), 1}, Titles: []string{"a", "b"}})
			}
			c := stacked("c", "title", "desc", []string{"a", "b"}, []string{colour(0), colour(1)}, ss, "")
			if c.Width != tt.wantWidth {
				t.Errorf("width %d, want %d", c.Width, tt.wantWidth)
			}
			labels := 0
			for i, b := range c.Bars {
				if b.Label != "" {
					labels++
				}
				if b.X < 0 || b.X+b.W > float64(c.Width) {
					t.Errorf("bar %d at %.1f+%.1f leaves the chart", i, b.X, b.W)
				}
			}
			if labels != tt.wantLabels {
				t.Errorf("%d labels, want %d", labels, tt.wantLabels)
			}
			if n := len(c.Bars); n > 0 {
				if c.Bars[n-1].Label == "" {
					t.Error("the newest bar has no label")
				}
				// The tallest stack (the last: i+1) fills the height.
				top := c.Bars[n-1].Segs[len(c.Bars[n-1].Segs)-1]
				if math.Abs(top.Y-chartTop) > 1e-9 {
					t.Errorf("the tallest bar reaches %.1f, not the top %.1f", top.Y, chartTop)
				}
			}
		})
	}
}
