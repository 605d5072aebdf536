// Package report renders engine results for people and for machines:
// tables and text for terminals, JSON and YAML, Markdown and HTML.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/snapshot"
)

// WriteJSON writes v as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteYAML writes v as YAML, through its JSON form so field names match.
func WriteYAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// SnapshotTime formats when a snapshot was taken, or says that the time
// is unknown: manifests read from stdin carry none, and a report must not
// print year 1 or today's date instead.
func SnapshotTime(t time.Time, layout string) string {
	if t.IsZero() {
		return "at an unknown time"
	}
	return t.UTC().Format(layout)
}

// Summary writes a snapshot summary as text.
func Summary(w io.Writer, s snapshot.Summary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Cluster snapshot: %s", s.Source)
	if s.ServerVersion != "" {
		fmt.Fprintf(&b, " (Kubernetes %s)", s.ServerVersion)
	}
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "Nodes: %d in %d pools\n", s.Nodes, len(s.Pools))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  POOL\tNODES\tREADY\tINSTANCE TYPES")
	for _, p := range s.Pools {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\n", p.Name, p.Nodes, p.Ready, strings.Join(p.InstanceTypes, ","))
	}
	tw.Flush()
	fmt.Fprintf(&b, "\nNamespaces: %d, empty: %d", s.Namespaces, len(s.Empty))
	if len(s.UnknownNamespaces) > 0 {
		fmt.Fprintf(&b, ", unknown: %d", len(s.UnknownNamespaces))
	}
	b.WriteString("\n")
	if len(s.Empty) > 0 {
		fmt.Fprintf(&b, "  empty: %s\n", strings.Join(s.Empty, ", "))
	}
	if len(s.UnknownNamespaces) > 0 {
		fmt.Fprintf(&b, "  unknown (some kinds could not be read): %s\n", strings.Join(s.UnknownNamespaces, ", "))
	}
	fmt.Fprintf(&b, "\nPods: %d\n", s.Pods)
	phases := make([]string, 0, len(s.PodsByPhase))
	for p := range s.PodsByPhase {
		phases = append(phases, p)
	}
	sort.Strings(phases)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, p := range phases {
		fmt.Fprintf(tw, "  %s\t%d\n", p, s.PodsByPhase[p])
	}
	tw.Flush()
	if len(s.Unlisted) > 0 {
		b.WriteString("\nKinds not read:\n")
		for _, k := range s.Unlisted {
			fmt.Fprintf(&b, "  %s: %s\n", k.GroupResource(), k.Error)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
