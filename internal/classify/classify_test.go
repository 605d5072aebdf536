package classify

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/yamldoc"
)

func ns(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func TestRules(t *testing.T) {
	t.Parallel()
	r := Rules{
		Teams:        []Rule{{Name: "kvibes", Match: []string{"kvibe*", "kvibes*"}}, {Name: "nextstep", Match: []string{"nextstep*"}}},
		Environments: []Rule{{Name: "production", Match: []string{"*-prod", "*-production"}}, {Name: "development", Match: []string{"*-dev"}}},
		Products:     []Rule{{Name: "kvibes", Match: []string{"kvibe*"}}},
	}
	tests := []struct {
		ns        *corev1.Namespace
		team, env string
	}{
		{ns("kvibe-prod", nil), "kvibes", "production"},
		{ns("kvibes-dev", nil), "kvibes", "development"},
		{ns("nextstep", nil), "nextstep", Unassigned},
		{ns("nextstep-dev", map[string]string{"team": "growth", "environment": "staging"}), "growth", "staging"},
		{ns("other", nil), Unassigned, Unassigned},
		{nil, Unassigned, Unassigned},
	}
	for _, tt := range tests {
		if got := r.Team(tt.ns); got != tt.team {
			t.Errorf("Team(%v) = %q, want %q", tt.ns, got, tt.team)
		}
		if got := r.Environment(tt.ns); got != tt.env {
			t.Errorf("Environment(%v) = %q, want %q", tt.ns, got, tt.env)
		}
	}
	if got := r.Product("kvibe-staging"); got != "kvibes" {
		t.Errorf("Product = %q", got)
	}
	custom := Rules{TeamLabel: "owner"}
	if got := custom.Team(ns("x", map[string]string{"owner": "ops", "team": "no"})); got != "ops" {
		t.Errorf("custom label: %q", got)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rules Rules
		path  string
	}{
		{Rules{Teams: []Rule{{Match: []string{"a*"}}}}, "teams[0].name"},
		{Rules{Environments: []Rule{{Name: "prod"}}}, "environments[0].match"},
		{Rules{Products: []Rule{{Name: "p", Match: []string{"ok", "bad["}}}}, "products[0].match[1]"},
	}
	for _, tt := range tests {
		var fe *yamldoc.FieldError
		if err := tt.rules.Validate(); !errors.As(err, &fe) || fe.Path != tt.path {
			t.Errorf("Validate() = %v, want a field error at %s", err, tt.path)
		}
	}
	if err := (Rules{}).Validate(); err != nil {
		t.Errorf("empty rules: %v", err)
	}
}
