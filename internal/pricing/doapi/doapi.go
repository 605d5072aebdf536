// Package doapi refreshes the DigitalOcean price book from the DigitalOcean
// API. It is the only part of pricing that talks to the network, kept apart
// so that engines using price books do not depend on an HTTP client.
package doapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/digitalocean/godo"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/pricing"
)

// Options say how to reach the DigitalOcean API.
type Options struct {
	Token string
	// BaseURL replaces https://api.digitalocean.com/ (tests, proxies).
	BaseURL string
	// HTTPClient carries the requests; the token is added to each.
	HTTPClient *http.Client
	// Now dates the prices; time.Now when nil.
	Now func() time.Time
}

// Refresh returns base with its Droplet sizes replaced by the
// ones the DigitalOcean API lists (`Sizes.List`: price_monthly,
// price_hourly), dated with the time they were read. Storage, load balancer
// and transfer prices are not in that API and stay as base has them.
func Refresh(ctx context.Context, base *pricing.Book, o Options) (*pricing.Book, error) {
	if strings.TrimSpace(o.Token) == "" {
		return nil, errors.New("DigitalOcean price refresh: no API token")
	}
	if base.Currency != "USD" {
		return nil, fmt.Errorf("DigitalOcean price refresh: base book %s is in %s; DigitalOcean lists USD", base.Name, base.Currency)
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	hc = &http.Client{Timeout: hc.Timeout, Jar: hc.Jar, CheckRedirect: hc.CheckRedirect,
		Transport: bearer{token: strings.TrimSpace(o.Token), next: hc.Transport}}
	var opts []godo.ClientOpt
	if o.BaseURL != "" {
		u := o.BaseURL
		if !strings.HasSuffix(u, "/") {
			u += "/"
		}
		opts = append(opts, godo.SetBaseURL(u))
	}
	client, err := godo.New(hc, opts...)
	if err != nil {
		return nil, fmt.Errorf("DigitalOcean API client: %w", err)
	}
	instances := map[string]pricing.Instance{}
	page := &godo.ListOptions{Page: 1, PerPage: 200}
	for n := 1; ; n++ {
		sizes, resp, err := client.Sizes.List(ctx, page)
		if err != nil {
			return nil, fmt.Errorf("listing DigitalOcean sizes: %w", err)
		}
		for _, s := range sizes {
			if s.Slug == "" {
				continue
			}
			it, err := instance(s)
			if err != nil {
				return nil, fmt.Errorf("DigitalOcean size %s: %w", s.Slug, err)
			}
			instances[s.Slug] = it
		}
		if resp == nil || resp.Links == nil || resp.Links.IsLastPage() {
			break
		}
		cur, err := resp.Links.CurrentPage()
		if err != nil {
			return nil, fmt.Errorf("listing DigitalOcean sizes: page links: %w", err)
		}
		// Links that do not move forward, or never end, would page
		// forever.
		if cur != page.Page {
			return nil, fmt.Errorf("listing DigitalOcean sizes: asked for page %d, the API's links say page %d", page.Page, cur)
		}
		if n >= maxPages {
			return nil, fmt.Errorf("listing DigitalOcean sizes: more than %d pages of %d sizes", maxPages, page.PerPage)
		}
		page = &godo.ListOptions{Page: cur + 1, PerPage: page.PerPage}
	}
	if len(instances) == 0 {
		return nil, errors.New("listing DigitalOcean sizes: the API returned no sizes")
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	b := *base
	b.Instances = instances
	b.Date = now().UTC().Format(time.RFC3339)
	b.Source = "DigitalOcean API GET /v2/sizes (Droplet sizes); " + base.Source
	b.Notes = append(append([]string(nil), base.Notes...),
		fmt.Sprintf("Droplet sizes read from the DigitalOcean API at %s; other prices from the %s catalogue dated %s.", b.Date, base.Name, base.Date))
	return &b, nil
}

// maxPages bounds the size listing: DigitalOcean lists a few hundred
// sizes, one or two pages of 200.
const maxPages = 50

// instance is a size's prices and shape, refused when the API gives one
// that is negative or too large for an Amount (converted as it is, it
// would wrap).
func instance(s godo.Size) (pricing.Instance, error) {
	if s.Vcpus < 0 || s.Memory < 0 {
		return pricing.Instance{}, fmt.Errorf("negative vcpus %d or memory %d", s.Vcpus, s.Memory)
	}
	var prices [2]money.Amount
	for i, p := range []struct {
		field string
		v     float64
	}{{"price_monthly", s.PriceMonthly}, {"price_hourly", s.PriceHourly}} {
		if p.v < 0 {
			return pricing.Instance{}, fmt.Errorf("negative price: %s %g", p.field, p.v)
		}
		if !(p.v*money.Micro < math.MaxInt64) {
			return pricing.Instance{}, fmt.Errorf("%s %g is out of range", p.field, p.v)
		}
		prices[i] = money.FromFloat("USD", p.v)
	}
	return pricing.Instance{Monthly: prices[0], Hourly: &prices[1], VCPU: int64(s.Vcpus), MemoryGiB: int64(s.Memory / 1024)}, nil
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	next := b.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}
