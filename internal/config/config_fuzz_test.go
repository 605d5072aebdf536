package config

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/scenario"
)

// FuzzParse feeds purser.yaml files to Parse. What it accepts must encode
// and read back to the same configuration: `purser config init` writes
// files through Encode, and one that did not read back would break the
// next run.
func FuzzParse(f *testing.F) {
	f.Add(scenario.DemoConfigYAML())
	for _, p := range []string{"../report/testdata/cost-config.yaml", "../report/auditreport/testdata/cluster.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, body := range []string{
		"",
		"audit:\n  disable: [pod-crashloop]\n  overrides: [{check: namespace-empty, severity: warning}]\n",
		// Duplicate keys, at the top and inside a section.
		"cost: {}\ncost: {}\n",
		"cost:\n  weights: {cpu: 50, memory: 50}\n  weights: {cpu: 10, memory: 90}\n",
		// Numbers at and past every integer width.
		"cost:\n  weights: {cpu: 9223372036854775807, memory: -9223372036854775808}\n",
		"cost:\n  weights: {cpu: 1e400, memory: 0x7fffffffffffffff}\n",
		"plan:\n  packing:\n    targetUtilization: 18446744073709551616\n",
		"plan:\n  roi: {days: 99999999999999999999999}\n",
		"cost:\n  lineItems:\n  - {name: egress, category: network, monthly: \"99999999999999999999.999999\"}\n",
		// Deep nesting, aliases and merge keys.
		"classify:\n  teams: " + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "\n",
		"plan: &a {protected: [*a]}\n",
		"audit:\n  overrides:\n  - &o {check: pod-crashloop, severity: info}\n  exemptions: [{<<: *o, namespace: a}]\n",
		"SPEC: {}\nCost: {}\n",
	} {
		f.Add([]byte(head + body))
	}
	f.Add([]byte("apiVersion: purser.dev/v1\nkind: Config\n"))
	f.Add([]byte("\xef\xbb\xbf" + head))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data)
		if err != nil {
			if c != nil {
				t.Fatal("a config returned with an error")
			}
			return
		}
		if c == nil {
			t.Fatal("no config and no error")
		}
		out, err := c.Encode("", nil)
		if err != nil {
			t.Fatalf("an accepted config does not encode: %v", err)
		}
		back, err := Parse("f.yaml", out)
		if err != nil {
			t.Fatalf("an accepted config, encoded, is refused: %v\n%s", err, out)
		}
		again, err := back.Encode("", nil)
		if err != nil {
			t.Fatalf("the config read back does not encode: %v", err)
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("the config changed on the way back:\n%s\nthen\n%s", out, again)
		}
	})
}
