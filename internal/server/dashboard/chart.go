package dashboard

import (
	"math"
	"strconv"
)

// colour returns the i-th colour of the charts' palette. Each is at least
// 4.5:1 against the white page, so a bar is as legible as the text
// beside it.
func colour(i int) string {
	palette := [...]string{"#1f5fbf", "#a34f00", "#2e7d32", "#7b3fa0", "#b71c1c", "#00695c", "#5d4037", "#455a64"}
	return palette[i%len(palette)]
}

// chart is a stacked bar chart drawn as inline SVG on the server. It is
// an image with a title and description for assistive technology; the
// page shows the same figures in a table beside it.
type chart struct {
	ID     string
	Title  string
	Desc   string
	Width  int
	Height int
	Bars   []bar
	Legend []legend
	// Max is the largest bar's label, printed on the axis.
	Max string
}

type bar struct {
	X, W  float64
	Label string
	Segs  []seg
}

type seg struct {
	Y, H   float64
	Colour string
	Title  string
}

type legend struct{ Label, Colour string }

// series is one stack of a chart: a bar's label and its parts, in the
// order of the chart's groups.
type series struct {
	Label  string
	Values []int64
	Titles []string
}

const (
	chartHeight = 160.0
	chartTop    = 12.0
	chartBottom = 22.0
	chartLeft   = 8.0
	// chartMaxWidth keeps a chart within a 1366-pixel window with the
	// page's margins; labelWidth is the room a bar's label needs.
	chartMaxWidth = 960.0
	labelWidth    = 40.0
)

// stacked lays out bars of stacked values, scaled so that the tallest
// fills the chart; groups name the parts, in palette order.
func stacked(id, title, desc string, groups []string, colours []string, ss []series, tallest string) chart {
	c := chart{ID: id, Title: title, Desc: desc, Height: int(chartHeight + chartTop + chartBottom), Max: tallest}
	for i, g := range groups {
		c.Legend = append(c.Legend, legend{Label: g, Colour: colours[i]})
	}
	// A month of daily bars fits a laptop's window beside nothing else:
	// bars narrow past a dozen, and labels thin out so they never touch.
	slot := min(48.0, (chartMaxWidth-chartLeft*2)/float64(max(len(ss), 1)))
	every := int(math.Ceil(labelWidth / slot))
	c.Width = int(chartLeft*2 + slot*float64(max(len(ss), 1)))
	var top int64
	for _, s := range ss {
		var sum int64
		for _, v := range s.Values {
			sum += max(v, 0)
		}
		top = max(top, sum)
	}
	for i, s := range ss {
		b := bar{X: chartLeft + slot*float64(i) + slot/6, W: slot * 2 / 3}
		if (len(ss)-1-i)%every == 0 {
			// Counted from the newest bar, which is always labelled.
			b.Label = s.Label
		}
		y := chartTop + chartHeight
		for j, v := range s.Values {
			if v <= 0 || top == 0 {
				continue
			}
			h := chartHeight * float64(v) / float64(top)
			y -= h
			t := ""
			if j < len(s.Titles) {
				t = s.Titles[j]
			}
			b.Segs = append(b.Segs, seg{Y: y, H: h, Colour: colours[j], Title: t})
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// f formats a coordinate: one decimal is finer than a pixel.
func f(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
