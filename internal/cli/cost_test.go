package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/money"
)

func runCost(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	root := NewRoot(streams)
	root.SetArgs(append([]string{"cost"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestCostDemoJSON(t *testing.T) {
	t.Parallel()
	out, _, err := runCost(t, "--demo", "-o", "json", "--by", "team")
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		Total     money.Amount `json:"total"`
		Groupings []struct {
			By string `json:"by"`
		} `json:"groupings"`
	}
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatal(err)
	}
	if b.Total.Micros != 1_289_300_000 || b.Total.Currency != "USD" {
		t.Errorf("total %+v, want USD 1,289.30", b.Total)
	}
	if len(b.Groupings) != 1 || b.Groupings[0].By != "team" {
		t.Errorf("groupings %+v", b.Groupings)
	}
}

func TestCostFromFileWithPriceBook(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cluster := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(cluster, []byte(`apiVersion: v1
kind: Node
metadata: {name: node-1, labels: {node.kubernetes.io/instance-type: m5.large}}
status: {capacity: {cpu: "2", memory: 8Gi}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	book := filepath.Join(dir, "book.yaml")
	if err := os.WriteFile(book, []byte(`apiVersion: purser.dev/v1alpha1
kind: PriceBook
name: acme
currency: EUR
instanceTypes:
  m5.large: {hourly: "0.1"}
fallback: {cpuHour: "0.03", gibHour: "0.004"}
storage: {default: "0.1"}
loadBalancer: "18"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCost(t, "--from", cluster, "--price-book", book, "--by", "pool", "-o", "markdown")
	if err != nil {
		t.Fatal(err)
	}
	// 0.1 × 730 h.
	if !strings.Contains(out, "# Monthly cost: EUR 73.00") {
		t.Errorf("output:\n%s", out)
	}

	if err := os.WriteFile(book, []byte("apiVersion: purser.dev/v1alpha1\nkind: PriceBook\nname: acme\ncurrency: EURO\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = runCost(t, "--from", cluster, "--price-book", book)
	if err == nil || !strings.Contains(err.Error(), book+":4: currency: unknown currency") {
		t.Errorf("bad price book: %v", err)
	}
}

func TestCostFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--demo", "--by", "colour"},
		{"--demo", "-o", "pdf"},
		{"--demo", "--prometheus", "http://localhost:9090"},
	} {
		if _, _, err := runCost(t, args...); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}
