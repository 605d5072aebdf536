package config

import (
	"strings"
	"testing"
)

func TestWatchSection(t *testing.T) {
	t.Parallel()
	head := "apiVersion: purser.dev/v1alpha1\nkind: Config\n"
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"rules and notifiers", `watch:
  externalURL: https://purser.example
  rules:
  - {name: lost-endpoints, kind: finding-open, check: service-no-endpoints, for: 12h}
  - {name: monthly-cost, kind: cost-above, monthly: "5000", currency: USD}
  notifiers:
  - {name: ops, type: slack, urlFromEnv: SLACK_WEBHOOK_URL}
`, ""},
		{"unknown check at its line", `watch:
  rules:
  - name: lost
    kind: finding-open
    check: service-no-endpoint
`, "purser.yaml:7"},
		{"a URL in the file is refused", `watch:
  notifiers:
  - {name: ops, type: webhook, url: https://hooks.example/secret}
`, "url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse("purser.yaml", []byte(head+tt.yaml))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(c.Watch.Rules) != 2 || c.Watch.Notifiers[0].URLFromEnv != "SLACK_WEBHOOK_URL" || c.Watch.ExternalURL == "" {
					t.Fatalf("%+v", c.Watch)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
