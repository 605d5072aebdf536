package config

import (
	"fmt"
	"os"
	"path/filepath"

	downscale "github.com/purserhq/purser/internal/downscale/engine"
	"github.com/purserhq/purser/internal/yamldoc"
)

// DownscaleHolidays is the holiday calendar of the downscale section: its
// dates and the events of its iCalendar file (read relative to the config
// file's directory). An error names the file and line.
func (c *Config) DownscaleHolidays() (*downscale.Calendar, error) {
	d := c.Downscale
	cal, err := downscale.ParseDates(d.Holidays)
	if err != nil {
		return nil, c.Check("downscale", &yamldoc.FieldError{Path: "holidays", Msg: err.Error()})
	}
	if d.HolidaysFile == "" {
		return cal, nil
	}
	p, doc := d.HolidaysFile, c.docOf("downscale")
	if !filepath.IsAbs(p) && doc.Line("") != 0 {
		p = filepath.Join(filepath.Dir(doc.File), p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, c.Check("downscale", &yamldoc.FieldError{Path: "holidaysFile", Msg: fmt.Sprintf("reading %s: %v", p, err)})
	}
	ics, err := downscale.ParseICS(p, data)
	if err != nil {
		return nil, c.Check("downscale", &yamldoc.FieldError{Path: "holidaysFile", Msg: err.Error()})
	}
	cal.Merge(ics)
	return cal, nil
}
