package audit_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// everyConfigMap reports each ConfigMap, at its default severity warning.
type everyConfigMap struct{ id string }

func (c everyConfigMap) ID() string                      { return c.id }
func (c everyConfigMap) Category() audit.Category        { return audit.Hygiene }
func (c everyConfigMap) DefaultSeverity() audit.Severity { return audit.Warning }
func (c everyConfigMap) Description() string             { return "test check" }
func (c everyConfigMap) Run(_ context.Context, in *audit.Input) []audit.Finding {
	var out []audit.Finding
	for _, cm := range in.Index.S.ConfigMaps {
		out = append(out, audit.Finding{Severity: audit.Warning, Object: snapshot.Ref{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name},
			Message: "cm " + cm.Name})
	}
	return out
}

type panics struct{ everyConfigMap }

func (panics) Run(context.Context, *audit.Input) []audit.Finding { panic("boom") }

func testSnapshot() *snapshot.Snapshot {
	cm := func(ns, name string, annots map[string]string) corev1.ConfigMap {
		return corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annots}}
	}
	return &snapshot.Snapshot{
		Namespaces: []corev1.Namespace{
			{ObjectMeta: metav1.ObjectMeta{Name: "a"}},
			{ObjectMeta: metav1.ObjectMeta{Name: "quiet", Annotations: map[string]string{audit.IgnoreAnnotation: "other, cm-check"}}},
		},
		ConfigMaps: []corev1.ConfigMap{
			cm("a", "one", nil),
			cm("a", "two", map[string]string{audit.IgnoreAnnotation: "*"}),
			cm("a", "three", map[string]string{audit.IgnoreAnnotation: "some-other-check"}),
			cm("quiet", "four", nil),
			cm("sandbox-1", "five", nil),
		},
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	reg := []audit.Check{everyConfigMap{"cm-check"}, everyConfigMap{"second"}}
	tests := []struct {
		name       string
		cfg        *audit.Config
		opts       audit.Options
		want       []string // check:object, in order
		suppressed int
	}{
		{"annotations", nil, audit.Options{Checks: []string{"cm-check"}},
			[]string{"cm-check:ConfigMap/a/one", "cm-check:ConfigMap/a/three", "cm-check:ConfigMap/sandbox-1/five"}, 2},
		{"override raises severity and sorts first", &audit.Config{Overrides: []audit.Override{{Check: "second", Severity: "error"}}},
			audit.Options{},
			[]string{"second:ConfigMap/a/one", "second:ConfigMap/a/three", "second:ConfigMap/quiet/four", "second:ConfigMap/sandbox-1/five",
				"cm-check:ConfigMap/a/one", "cm-check:ConfigMap/a/three", "cm-check:ConfigMap/sandbox-1/five"}, 3},
		{"exemption by namespace glob", &audit.Config{Disable: []string{"second"},
			Exemptions: []audit.Exemption{{Check: "*", Namespace: "sandbox-*"}}}, audit.Options{},
			[]string{"cm-check:ConfigMap/a/one", "cm-check:ConfigMap/a/three"}, 3},
		{"exemption by kind and name", &audit.Config{Exemptions: []audit.Exemption{{Check: "second", Kind: "ConfigMap", Name: "t*"}}},
			audit.Options{Checks: []string{"second"}},
			[]string{"second:ConfigMap/a/one", "second:ConfigMap/quiet/four", "second:ConfigMap/sandbox-1/five"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := audit.Run(context.Background(), snapshot.NewIndex(testSnapshot()), reg, tt.cfg, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res.Findings {
				got = append(got, f.CheckID+":"+f.Object.String())
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("findings\n  %v\nwant\n  %v", got, tt.want)
			}
			if len(res.Suppressed) != tt.suppressed {
				t.Errorf("%d suppressed, want %d: %+v", len(res.Suppressed), tt.suppressed, res.Suppressed)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	ix := snapshot.NewIndex(testSnapshot())
	if _, err := audit.Run(context.Background(), ix, []audit.Check{panics{everyConfigMap{"bad"}}}, nil, audit.Options{}); err == nil ||
		!strings.Contains(err.Error(), "check bad failed: boom") {
		t.Errorf("a panicking check gave %v", err)
	}
	if _, err := audit.Run(context.Background(), ix, []audit.Check{everyConfigMap{"a"}}, nil, audit.Options{Checks: []string{"b"}}); err == nil {
		t.Error("an unknown selected check was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := audit.Run(ctx, ix, []audit.Check{everyConfigMap{"a"}}, nil, audit.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled audit gave %v", err)
	}
	// Cancelled while a check runs: what it found is not reported as a
	// complete audit, and the next check does not run.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	_, err := audit.Run(ctx, ix, []audit.Check{cancels{everyConfigMap{"slow"}, cancel}, panics{everyConfigMap{"next"}}}, nil, audit.Options{})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "during check slow") {
		t.Errorf("an audit cancelled during a check gave %v", err)
	}
}

// cancels cancels the audit's context while it runs.
type cancels struct {
	everyConfigMap
	cancel context.CancelFunc
}

func (c cancels) Run(ctx context.Context, in *audit.Input) []audit.Finding {
	c.cancel()
	return c.everyConfigMap.Run(ctx, in)
}

func TestInNamespace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ns         string
		want       []string // check:object
		suppressed int
		counts     map[string]int
	}{
		{"a", []string{"cm-check:ConfigMap/a/one", "second:ConfigMap/a/one", "cm-check:ConfigMap/a/three", "second:ConfigMap/a/three"}, 2,
			map[string]int{"cm-check": 2, "second": 2}},
		{"sandbox-1", []string{"cm-check:ConfigMap/sandbox-1/five", "second:ConfigMap/sandbox-1/five"}, 0,
			map[string]int{"cm-check": 1, "second": 1}},
		{"nowhere", nil, 0, map[string]int{"cm-check": 0, "second": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.ns, func(t *testing.T) {
			t.Parallel()
			res, err := audit.Run(context.Background(), snapshot.NewIndex(testSnapshot()),
				[]audit.Check{everyConfigMap{"cm-check"}, everyConfigMap{"second"}}, nil, audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Scope != "" {
				t.Errorf("scope before narrowing: %q", res.Scope)
			}
			res.InNamespace(tt.ns)
			if res.Scope != tt.ns {
				t.Errorf("scope %q, want %q", res.Scope, tt.ns)
			}
			var got []string
			for _, f := range res.Findings {
				got = append(got, f.CheckID+":"+f.Object.String())
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("findings %v, want %v", got, want)
			}
			if len(res.Suppressed) != tt.suppressed {
				t.Errorf("%d suppressed, want %d", len(res.Suppressed), tt.suppressed)
			}
			for _, c := range res.Checks {
				if c.Findings != tt.counts[c.ID] {
					t.Errorf("check %s counts %d findings, want %d", c.ID, c.Findings, tt.counts[c.ID])
				}
			}
		})
	}
}
