package cli

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser/internal/audit"
)

// addAuditProfile adds --profile: each check's duration, slowest first, on
// stderr once the audit has run, so that a slow check is visible. Data on
// stdout is unchanged, so the flag can be added to any audit command line.
func addAuditProfile(cmd *cobra.Command) {
	var on bool
	cmd.Flags().BoolVar(&on, "profile", false, "print each check's duration, slowest first, to stderr")
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if !on {
			return run(c, args)
		}
		p := &audit.Profile{}
		c.SetContext(audit.WithProfile(c.Context(), p))
		start := time.Now()
		err := run(c, args)
		writeAuditProfile(c.ErrOrStderr(), p, time.Since(start))
		return err
	}
}

func writeAuditProfile(w io.Writer, p *audit.Profile, wall time.Duration) {
	checks := p.Checks()
	if len(checks) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tTIME\tSHARE\tFINDINGS\t")
	total := p.Total()
	for _, c := range checks {
		share := 0.0
		if total > 0 {
			share = 100 * float64(c.Elapsed) / float64(total)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f%%\t%d\t\n", c.ID, roundDuration(c.Elapsed), share, c.Findings)
	}
	fmt.Fprintf(tw, "checks\t%s\t\t\t\n", roundDuration(total))
	fmt.Fprintf(tw, "command\t%s\t\t\t\n", roundDuration(wall))
	_ = tw.Flush()
}

// roundDuration keeps three significant figures or so: 1.23s, 45.6ms, 789µs.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
