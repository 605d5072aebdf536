package doapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/pricing"
)

func usd(s string) money.Amount {
	a, err := money.Parse("USD", s)
	if err != nil {
		panic(err)
	}
	return a
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		if r.URL.Path != "/v2/sizes" {
			http.NotFound(w, r)
			return
		}
		file := "testdata/do-sizes-page1.json"
		if r.URL.Query().Get("page") == "2" {
			file = "testdata/do-sizes-page2.json"
		}
		data, err := os.ReadFile(file)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	}))
	defer srv.Close()
	base, err := pricing.DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	read := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	b, err := Refresh(context.Background(), base, Options{Token: "t0ken", BaseURL: srv.URL, Now: func() time.Time { return read }})
	if err != nil {
		t.Fatal(err)
	}
	if len(auth) != 2 || auth[0] != "Bearer t0ken" {
		t.Errorf("want two authenticated pages, got %q", auth)
	}
	if got := b.InstanceTypes(); strings.Join(got, ",") != "g-2vcpu-8gb,s-2vcpu-4gb,s-2vcpu-4gb-amd" {
		t.Errorf("sizes %v", got)
	}
	// The -amd variant has the shape of s-2vcpu-4gb and its own price.
	if p, src, _, _ := b.NodeMonthly("s-2vcpu-4gb-amd", 2000, 4<<30); p != usd("28") || src != pricing.FromCatalogue {
		t.Errorf("s-2vcpu-4gb-amd %v %s", p, src)
	}
	if b.Date != "2026-11-23T10:00:00Z" || !strings.Contains(b.Source, "/v2/sizes") {
		t.Errorf("date %q source %q", b.Date, b.Source)
	}
	if b.LoadBalancer != base.LoadBalancer || b.StorageDefault != base.StorageDefault {
		t.Error("prices the sizes API does not carry must stay as the catalogue has them")
	}
	if _, err := Refresh(context.Background(), base, Options{}); err == nil {
		t.Error("no token must be an error")
	}
}
