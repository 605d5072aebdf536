package alert

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/money"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func svcFinding(first time.Time) Finding {
	return Finding{Key: "k1", Check: "service-no-endpoints", Severity: "high", Kind: "Service", Namespace: "shop", Name: "web", Message: "no endpoints", FirstSeen: first}
}

// run applies the transitions of one evaluation to the open alerts, as
// the store does, and returns the new open alerts.
func apply(open []State, ts []Transition) []State {
	byKey := map[string]State{}
	for _, s := range open {
		byKey[s.Key()] = s
	}
	for _, t := range ts {
		if t.State.Phase == Pending || t.State.Phase == Firing {
			byKey[t.State.Key()] = t.State
		} else {
			delete(byKey, t.State.Key())
		}
	}
	var out []State
	for _, s := range byKey {
		out = append(out, s)
	}
	return out
}

func describe(ts []Transition) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%s:%s->%s", t.State.Rule, t.From, t.State.Phase))
	}
	return strings.Join(parts, ",")
}

func TestEvaluateStateMachine(t *testing.T) {
	t.Parallel()
	costRule := Rule{Name: "cost", Kind: KindCostAbove, Monthly: "100", Currency: "USD"}
	usd := func(v int64) money.Amount { return money.New("USD", v*money.Micro) }
	type step struct {
		at       time.Duration
		findings []Finding
		priced   bool
		cost     money.Amount
		want     string
	}
	tests := []struct {
		name  string
		rules []Rule
		steps []step
	}{
		{
			name:  "a finding open past its duration fires once, then resolves once",
			rules: DefaultRules()[:1],
			steps: []step{
				{at: 0, findings: []Finding{svcFinding(t0)}, want: "service-no-endpoints:inactive->pending"},
				{at: 23 * time.Hour, findings: []Finding{svcFinding(t0)}, want: ""},
				{at: 25 * time.Hour, findings: []Finding{svcFinding(t0)}, want: "service-no-endpoints:pending->firing"},
				{at: 26 * time.Hour, findings: []Finding{svcFinding(t0)}, want: ""},
				{at: 27 * time.Hour, want: "service-no-endpoints:firing->resolved"},
				{at: 28 * time.Hour, want: ""},
			},
		},
		{
			name:  "a finding gone before its duration never fires",
			rules: DefaultRules()[:1],
			steps: []step{
				{at: 0, findings: []Finding{svcFinding(t0)}, want: "service-no-endpoints:inactive->pending"},
				{at: time.Hour, want: "service-no-endpoints:pending->inactive"},
			},
		},
		{
			name:  "a finding first seen long ago fires on the first evaluation",
			rules: DefaultRules()[:1],
			steps: []step{{at: 0, findings: []Finding{svcFinding(t0.Add(-48 * time.Hour))}, want: "service-no-endpoints:inactive->firing"}},
		},
		{
			name:  "other checks' findings do not fire a rule",
			rules: DefaultRules()[:1],
			steps: []step{{at: 0, findings: []Finding{{Key: "k2", Check: "pod-crashloop", FirstSeen: t0.Add(-48 * time.Hour)}}, want: ""}},
		},
		{
			name:  "empty namespaces of the first scan are not new, later ones fire at once",
			rules: DefaultRules()[2:],
			steps: []step{
				{at: 0, findings: []Finding{{Key: "old", Check: EmptyNamespaceCheck, Kind: "Namespace", Name: "old", FirstSeen: t0}}, want: ""},
				{at: time.Hour, findings: []Finding{
					{Key: "old", Check: EmptyNamespaceCheck, Kind: "Namespace", Name: "old", FirstSeen: t0},
					{Key: "new", Check: EmptyNamespaceCheck, Kind: "Namespace", Name: "new", FirstSeen: t0.Add(time.Hour)},
				}, want: "new-empty-namespace:inactive->firing"},
			},
		},
		{
			name:  "cost above the threshold fires, an unpriced scan changes nothing, cost back under resolves",
			rules: []Rule{costRule},
			steps: []step{
				{at: 0, priced: true, cost: usd(90), want: ""},
				{at: time.Hour, priced: true, cost: usd(120), want: "cost:inactive->firing"},
				{at: 2 * time.Hour, priced: false, want: ""},
				{at: 3 * time.Hour, priced: true, cost: usd(100), want: "cost:firing->resolved"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var open []State
			for i, s := range tt.steps {
				ts, err := Evaluate(tt.rules, open, Observation{Cluster: "c", Now: t0.Add(s.at), Findings: s.findings, Baseline: t0, Priced: s.priced, MonthlyCost: s.cost})
				if err != nil {
					t.Fatal(err)
				}
				if got := describe(ts); got != s.want {
					t.Fatalf("step %d: transitions %q, want %q", i, got, s.want)
				}
				open = apply(open, ts)
			}
		})
	}
}

func TestEvaluateKeepsFiringAcrossRestart(t *testing.T) {
	t.Parallel()
	// What a restarted server reads back from the store: the alert fired.
	prev := []State{{ID: 7, Rule: "service-no-endpoints", Subject: "k1", Phase: Firing, ActiveSince: t0, FiredAt: t0.Add(24 * time.Hour)}}
	ts, err := Evaluate(DefaultRules()[:1], prev, Observation{Now: t0.Add(30 * time.Hour), Findings: []Finding{svcFinding(t0)}})
	if err != nil || len(ts) != 0 {
		t.Fatalf("a firing alert still true must not transition again: %v %v", describe(ts), err)
	}
	ts, err = Evaluate(DefaultRules()[:1], prev, Observation{Now: t0.Add(31 * time.Hour)})
	if err != nil || len(ts) != 1 || ts[0].State.ID != 7 || !ts[0].Notify() || !ts[0].State.ResolvedAt.Equal(t0.Add(31*time.Hour)) {
		t.Fatalf("resolve must carry the stored alert: %+v %v", ts, err)
	}
}

func TestEvaluateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rule Rule
		obs  Observation
		want string
	}{
		{"currency mismatch", Rule{Name: "c", Kind: KindCostAbove, Monthly: "1", Currency: "EUR"}, Observation{Priced: true, MonthlyCost: money.New("USD", 5)}, "priced in USD"},
		{"unknown kind", Rule{Name: "x", Kind: "nope"}, Observation{}, "unknown kind"},
		{"bad duration", Rule{Name: "x", Kind: KindFindingOpen, For: "soon"}, Observation{}, "expected a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Evaluate([]Rule{tt.rule}, nil, tt.obs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	checks := []string{"service-no-endpoints", "pod-crashloop"}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"defaults", Config{}, ""},
		{"good", Config{Rules: []Rule{{Name: "a", Kind: KindFindingOpen, Check: "pod-crashloop", For: "2h"}}, Notifiers: []Notifier{{Name: "ops", Type: NotifierSlack, URLFromEnv: "X"}}}, ""},
		{"unknown check", Config{Rules: []Rule{{Name: "a", Kind: KindFindingOpen, Check: "nope"}}}, "rules[0].check"},
		{"duplicate rule", Config{Rules: []Rule{{Name: "a", Kind: KindNewEmptyNamespace}, {Name: "a", Kind: KindNewEmptyNamespace}}}, "defined twice"},
		{"bad threshold", Config{Rules: []Rule{{Name: "a", Kind: KindCostAbove, Monthly: "lots"}}}, "rules[0].monthly"},
		{"bad kind", Config{Rules: []Rule{{Name: "a", Kind: "x"}}}, "rules[0].kind"},
		{"bad severity", Config{Rules: []Rule{{Name: "a", Kind: KindNewEmptyNamespace, Severity: "meh"}}}, "rules[0].severity"},
		{"notifier without URL", Config{Notifiers: []Notifier{{Name: "ops", Type: NotifierWebhook}}}, "exactly one of urlFromEnv"},
		{"notifier with both", Config{Notifiers: []Notifier{{Name: "ops", Type: NotifierWebhook, URLFromEnv: "A", URLFromFile: "/b"}}}, "exactly one of urlFromEnv"},
		{"notifier type", Config{Notifiers: []Notifier{{Name: "ops", Type: "pager", URLFromEnv: "A"}}}, "unknown notifier type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate(checks)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
