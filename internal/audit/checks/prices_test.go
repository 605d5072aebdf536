package checks

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/snapshot"
)

// TestWasteIsPricedFromTheBook checks that the audit quotes the price book
// it is given, and quotes no price without one.
func TestWasteIsPricedFromTheBook(t *testing.T) {
	t.Parallel()
	book, err := pricing.DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		check   audit.Check
		fixture string
		want    string
	}{
		{pvcUnused(), "testdata/pvc-unused/fail-orphan.yaml", "8Gi of block storage, about USD 0.80 a month"},
		{serviceUnusedLoadBalancer(), "testdata/service-unused-loadbalancer/fail-no-endpoints.yaml", "costs USD " + book.LoadBalancer.Format(2) + " a month"},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(tt.fixture)
		if err != nil {
			t.Fatal(err)
		}
		s, err := snapshot.LoadManifests(tt.fixture, data)
		if err != nil {
			t.Fatal(err)
		}
		ix := snapshot.NewIndex(s)
		priced := tt.check.Run(context.Background(), &audit.Input{Index: ix, Config: &audit.Config{}, Prices: book})
		if len(priced) == 0 || !strings.Contains(priced[0].Message, tt.want) {
			t.Errorf("%s with a price book: %v, want %q", tt.check.ID(), priced, tt.want)
		}
		bare := tt.check.Run(context.Background(), &audit.Input{Index: ix, Config: &audit.Config{}})
		if len(bare) == 0 || strings.Contains(bare[0].Message, "USD") {
			t.Errorf("%s without a price book quotes a price: %v", tt.check.ID(), bare)
		}
	}
}
