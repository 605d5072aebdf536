package doapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/pricing"
)

// pages is a DigitalOcean API that answers the first page of sizes with
// first and every later page with rest, in memory: the fuzz target runs
// godo's own decoding and Refresh's paging without a server.
type pages struct{ first, rest []byte }

func (p pages) RoundTrip(r *http.Request) (*http.Response, error) {
	body := p.rest
	if pg := r.URL.Query().Get("page"); pg == "" || pg == "1" {
		body = p.first
	}
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Request: r,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   io.NopCloser(bytes.NewReader(body))}, nil
}

func sizesPage(links string, sizes ...string) []byte {
	return []byte(`{"sizes":[` + strings.Join(sizes, ",") + `],"links":` + links + `,"meta":{"total":3}}`)
}

// FuzzRefresh feeds DigitalOcean sizes responses to Refresh. The prices
// it reads replace the catalogue's: each must be a non-negative USD
// amount with a non-negative shape, whatever the API says, and paging
// must end whatever links the API gives.
func FuzzRefresh(f *testing.F) {
	page1, err := os.ReadFile("testdata/do-sizes-page1.json")
	if err != nil {
		f.Fatal(err)
	}
	page2, err := os.ReadFile("testdata/do-sizes-page2.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(page1, page2)
	const last = `{"pages":{}}`
	const size = `{"slug":"s-1","memory":2048,"vcpus":1,"price_monthly":12,"price_hourly":0.01786}`
	for _, c := range [][2][]byte{
		{sizesPage(last, size), nil},
		{sizesPage(last), nil},
		// Duplicate slugs and keys, and keys that differ by case only.
		{sizesPage(last, size, size), nil},
		{sizesPage(last, `{"slug":"a","slug":"b","price_monthly":1,"PRICE_MONTHLY":-1,"price_hourly":0}`), nil},
		// Huge, negative and fractional numbers.
		{sizesPage(last, `{"slug":"a","memory":9223372036854775807,"vcpus":-1,"price_monthly":1e300,"price_hourly":1.7976931348623157e308}`), nil},
		{sizesPage(last, `{"slug":"a","memory":-1024,"vcpus":2,"price_monthly":9.3e12,"price_hourly":-0.0}`), nil},
		{sizesPage(last, `{"slug":"a","memory":1e400,"price_monthly":0.0000004,"price_hourly":0.0000005}`), nil},
		// Links that never end, go back, or are not links.
		{page1, page1},
		{page1, sizesPage(`{"pages":{"prev":"https://api.digitalocean.com/v2/sizes?page=1","next":"https://api.digitalocean.com/v2/sizes?page=3"}}`, size)},
		{page1, sizesPage(`{"pages":{"prev":"https://api.digitalocean.com/v2/sizes?page=9","next":"https://api.digitalocean.com/v2/sizes?page=10"}}`, size)},
		{sizesPage(`{"pages":{"prev":"%zz","next":"::"}}`, size), nil},
		// Deep nesting.
		{[]byte(`{"sizes":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`), nil},
	} {
		f.Add(c[0], c[1])
	}
	base, err := pricing.DigitalOcean()
	if err != nil {
		f.Fatal(err)
	}
	read := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, first, rest []byte) {
		b, err := Refresh(context.Background(), base, Options{Token: "t", BaseURL: "http://do.invalid",
			HTTPClient: &http.Client{Transport: pages{first, rest}}, Now: func() time.Time { return read }})
		if err != nil {
			if b != nil {
				t.Fatal("a price book returned with an error")
			}
			return
		}
		if b == nil || len(b.Instances) == 0 {
			t.Fatal("no sizes and no error")
		}
		for slug, it := range b.Instances {
			if slug == "" {
				t.Fatal("a size without a slug")
			}
			if it.Monthly.Micros < 0 || it.Monthly.Currency != "USD" || it.Hourly == nil || it.Hourly.Micros < 0 || it.Hourly.Currency != "USD" {
				t.Fatalf("%s: monthly %+v, hourly %+v", slug, it.Monthly, it.Hourly)
			}
			if it.VCPU < 0 || it.MemoryGiB < 0 || it.Spot != nil {
				t.Fatalf("%s: %d vCPUs, %d GiB, spot %v", slug, it.VCPU, it.MemoryGiB, it.Spot)
			}
		}
		if b.LoadBalancer != base.LoadBalancer || b.StorageDefault != base.StorageDefault || b.Currency != "USD" || b.HoursPerMonth != base.HoursPerMonth {
			t.Fatal("prices the sizes API does not carry changed")
		}
	})
}
