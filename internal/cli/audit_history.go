package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/store"
)

// auditHistory is what --store and --since add to `purser audit`.
type auditHistory struct {
	Store StoreFlags
	Since string
}

func (h *auditHistory) addFlags(cmd *cobra.Command) {
	h.Store.addFlags(cmd, "record this scan in a history database (a SQLite file, created if missing, or a postgres:// URL) and show each finding as new or open for how long")
	cmd.Flags().StringVar(&h.Since, "since", "", "with --store, also list the findings new and fixed in this last period (7d, 2w, 36h)")
}

func (h *auditHistory) validate(manifests bool) error {
	if err := h.Store.validate(); err != nil {
		return err
	}
	if h.Since != "" {
		if h.Store.Target == "" {
			return fmt.Errorf("--since reads the history: give it with --store")
		}
		if _, err := parseAge(h.Since); err != nil {
			return fmt.Errorf("--since: %w", err)
		}
	}
	if manifests && h.Store.Target != "" {
		return fmt.Errorf("--store records scans of a cluster; manifests are not one")
	}
	return nil
}

// auditHistoryView is what history says about one audit.
type auditHistoryView struct {
	where    string
	recorded *store.Recorded
	now      time.Time
	// rows follow the audit's findings, in its order.
	rows []historyRow
	// since, when set, is the start of --since's period.
	since        time.Time
	sinceText    string
	newSince     []store.Finding
	fixedSince   []store.Finding
	resolvedHere int
}

type historyRow struct {
	state string
	f     audit.Finding
}

// record stores the scan of res and reads what history says about its
// findings; nil without --store.
func (h *auditHistory) record(ctx context.Context, env *action.Env, res *audit.Result, scope string) (*auditHistoryView, error) {
	if h.Store.Target == "" {
		return nil, nil
	}
	st, err := h.Store.open(ctx)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	scan, errs, err := captureScan(ctx, env, res)
	if err != nil {
		return nil, err
	}
	rec, err := h.Store.record(ctx, st, env, scope, scan, errs)
	if err != nil {
		return nil, err
	}
	cluster := clusterName(env.Snapshot)
	open, err := st.Findings(ctx, store.FindingFilter{Cluster: cluster, State: "open"})
	if err != nil {
		return nil, err
	}
	firstSeen := map[string]time.Time{}
	for _, f := range open {
		firstSeen[f.Key] = f.FirstSeen
	}
	isNew := map[string]bool{}
	for _, f := range rec.New {
		isNew[f.Key] = true
	}
	v := &auditHistoryView{where: st.String(), recorded: rec, now: env.Clock.Now(), resolvedHere: len(rec.Resolved)}
	for _, f := range res.Findings {
		key := audit.Identity(f.CheckID, env.Index.Workload(f.Object))
		state := "new"
		if !isNew[key] {
			state = "open " + age(v.now.Sub(firstSeen[key]))
		}
		v.rows = append(v.rows, historyRow{state: state, f: f})
	}
	if h.Since != "" {
		d, _ := parseAge(h.Since)
		v.since, v.sinceText = v.now.Add(-d), h.Since
		all, err := st.Findings(ctx, store.FindingFilter{Cluster: cluster, Since: v.since})
		if err != nil {
			return nil, err
		}
		for _, f := range all {
			if scope != "" && f.Workload.Namespace != scope {
				continue
			}
			if !f.FirstSeen.Before(v.since) {
				v.newSince = append(v.newSince, f)
			}
			if !f.Open() && !f.Resolved.Before(v.since) {
				v.fixedSince = append(v.fixedSince, f)
			}
		}
	}
	return v, nil
}

// age says how long, in days once it is a day or more.
func age(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return "<1h"
}

// summary is the one line every format gets on stderr.
func (v *auditHistoryView) summary() string {
	n := 0
	for _, r := range v.rows {
		if r.state == "new" {
			n++
		}
	}
	return fmt.Sprintf("recorded scan %d in %s: %d new, %d resolved since the previous scan", v.recorded.ID, v.where, n, v.resolvedHere)
}

// render writes the history view: after the terminal table, each
// finding's state and the --since lists; machine formats keep their
// documents as they are and get the summary on stderr.
func (v *auditHistoryView) render(out, errOut io.Writer, format string) error {
	if v == nil {
		return nil
	}
	fmt.Fprintln(errOut, output.TerminalText(v.summary()))
	if format != "table" && format != "wide" {
		return nil
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nHISTORY (scan %d)\n", v.recorded.ID)
	if len(v.rows) > 0 {
		fmt.Fprintln(tw, "STATE\tSEVERITY\tCHECK\tOBJECT")
	}
	for _, r := range v.rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.state, r.f.Severity, r.f.CheckID, output.CellText(r.f.Object.String()))
	}
	if !v.since.IsZero() {
		fmt.Fprintf(tw, "\nSINCE %s (%s): %d new, %d fixed\n", v.since.UTC().Format(time.RFC3339), v.sinceText, len(v.newSince), len(v.fixedSince))
		list := func(title string, fs []store.Finding, when func(store.Finding) time.Time) {
			if len(fs) == 0 {
				return
			}
			fmt.Fprintf(tw, "%s\nWHEN\tSEVERITY\tCHECK\tOBJECT\n", title)
			for _, f := range fs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", when(f).UTC().Format(time.DateTime), f.Severity, f.Check, output.CellText(f.Object.String()))
			}
		}
		list("NEW", v.newSince, func(f store.Finding) time.Time { return f.FirstSeen })
		list("FIXED", v.fixedSince, func(f store.Finding) time.Time { return f.Resolved })
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(out, output.TerminalText(b.String()))
	return err
}
