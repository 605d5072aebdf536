package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestClusters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, want string
		labels           []string
	}{
		{name: "named and unnamed", body: "clusters:\n- {name: prod, context: do-fra1-prod, priceBook: prices.yaml}\n- context: do-fra1-dev\n",
			labels: []string{"prod", "do-fra1-dev"}},
		{name: "no context", body: "clusters:\n- name: prod\n", want: `t.yaml:4: clusters[0].context: name the kubeconfig context`},
		{name: "same name twice", body: "clusters:\n- {name: a, context: x}\n- {context: a}\n", want: `t.yaml:5: clusters[1]: cluster "a" is also clusters[0]`},
		{name: "bad name", body: "clusters:\n- {name: 'a b', context: x}\n", want: `clusters[0].name: "a b": letters, digits`},
		{name: "unknown field", body: "clusters:\n- {context: x, token: y}\n", want: `clusters[0].token: unknown field`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Parse(filepath.Join("conf", "t.yaml"), []byte(head+tt.body))
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cfg.Clusters {
				got = append(got, c.Label())
			}
			if strings.Join(got, ",") != strings.Join(tt.labels, ",") {
				t.Errorf("labels %v, want %v", got, tt.labels)
			}
			if p := cfg.ClusterPath(cfg.Clusters[0].PriceBook); p != filepath.Join("conf", "prices.yaml") {
				t.Errorf("price book resolved to %s, want it beside the config", p)
			}
		})
	}
}
