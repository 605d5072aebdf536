package config

import (
	"strings"
	"testing"
)

func TestBudgetsSection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, want string
	}{
		{"valid", "budgets:\n  timeZone: Europe/Paris\n  items:\n  - {name: kvibes, scope: {team: kvibes}, amount: \"300\", currency: EUR}\n", ""},
		{"bad period", "budgets:\n  items:\n  - name: kvibes\n    scope: {team: kvibes}\n    period: daily\n    amount: \"300\"\n", "purser.yaml:7: budgets.items[0].period: unknown period \"daily\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse("purser.yaml", []byte("apiVersion: purser.dev/v1alpha1\nkind: Config\n"+tt.yaml))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(c.Budgets.Items) != 1 || c.Budgets.TimeZone != "Europe/Paris" {
					t.Errorf("budgets = %+v", c.Budgets)
				}
				err = c.CheckBudgetCurrency("USD")
				if err == nil || !strings.Contains(err.Error(), "purser.yaml:6: budgets.items[0].currency: budget kvibes is in EUR, the price book is in USD") {
					t.Errorf("currency check = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
