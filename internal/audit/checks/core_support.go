package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

// checkSpec is a check given by its metadata and a function; the
// availability checks and namespace-empty are of this shape.
type checkSpec struct {
	id          string
	category    audit.Category
	severity    audit.Severity
	description string
	// reads are the kinds the check reads (audit.Reader).
	reads []string
	// manifests says whether the check runs on manifests alone.
	manifests audit.Manifests
	run       func(c checkSpec, ix *snapshot.Index, cfg *audit.Config) []audit.Finding
}

func (c checkSpec) ID() string                      { return c.id }
func (c checkSpec) Category() audit.Category        { return c.category }
func (c checkSpec) DefaultSeverity() audit.Severity { return c.severity }
func (c checkSpec) Description() string             { return c.description }
func (c checkSpec) Reads() []string                 { return c.reads }
func (c checkSpec) OnManifests() audit.Manifests    { return c.manifests }

func (c checkSpec) Run(ctx context.Context, in *audit.Input) []audit.Finding {
	if in == nil || in.Index == nil || ctx.Err() != nil {
		return nil
	}
	return c.run(c, in.Index, in.Config)
}

func (c checkSpec) newFinding(obj snapshot.Ref, msg string) audit.Finding {
	return audit.Finding{CheckID: c.id, Severity: c.severity, Category: c.category, Object: obj, Message: msg}
}

func objRef(kind string, o metav1.Object) snapshot.Ref {
	return snapshot.Ref{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()}
}

// podReady reports the pod's Ready condition.
func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podTerminal reports pods that have finished and will never serve again.
func podTerminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || p.DeletionTimestamp != nil
}

// labelsText writes labels the way kubectl's -l flag reads them: a=b,c=d.
func labelsText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// mergePatch renders a JSON merge patch for the shell: single-quoted,
// keys sorted (encoding/json sorts map keys), nulls kept.
func mergePatch(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only maps of strings and nested maps are passed in.
		panic(fmt.Sprintf("merge patch: %v", err))
	}
	return shell.Quote(string(b))
}

// jsonText is v as JSON text, for building patch bodies from names.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("json: %v", err))
	}
	return string(b)
}

// nsArg is " -n ns" for namespaced objects.
func nsArg(ns string) string {
	if ns == "" {
		return ""
	}
	return " -n " + shell.Quote(ns)
}

// joinNames joins up to max names and says how many more there are.
func joinNames(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}

// since says how long ago t was, relative to the snapshot time, in the
// largest sensible unit ("103 days", "5 hours"); "" when unknown.
func since(t time.Time, now time.Time) string {
	if t.IsZero() || now.IsZero() || now.Before(t) {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d >= 2*time.Minute:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	}
	return fmt.Sprintf("%d seconds", int(d.Seconds()))
}

// warningEvents returns the warning events about an object, newest first.
func warningEvents(s *snapshot.Snapshot, kind, ns, name string) []*corev1.Event {
	var out []*corev1.Event
	for i := range s.Events {
		e := &s.Events[i]
		if e.InvolvedObject.Kind == kind && e.InvolvedObject.Name == name && e.InvolvedObject.Namespace == ns {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return eventTime(out[i]).After(eventTime(out[j])) })
	return out
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.FirstTimestamp.Time
}

// isHelmManaged reports objects a Helm release owns; a live patch of
// them is undone by the next `helm upgrade`.
func isHelmManaged(o metav1.Object) (release string, ok bool) {
	if r := o.GetAnnotations()["meta.helm.sh/release-name"]; r != "" {
		return r, true
	}
	if o.GetLabels()["app.kubernetes.io/managed-by"] == "Helm" {
		return o.GetLabels()["app.kubernetes.io/instance"], true
	}
	return "", false
}

// workloadOf returns the top owner of a pod and the metadata of that
// owner when the snapshot holds it.
func workloadOf(ix *snapshot.Index, p *corev1.Pod) snapshot.Ref {
	return ix.TopOwner("Pod", p)
}

// snapshotTime is the time the snapshot was taken, for ages.
func snapshotTime(s *snapshot.Snapshot) time.Time { return s.Meta.CollectedAt }
