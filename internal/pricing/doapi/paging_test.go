package doapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/pricing"
)

// endless is an API whose every page links a next one.
type endless struct{}

func (endless) RoundTrip(r *http.Request) (*http.Response, error) {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil {
		return nil, err
	}
	links := fmt.Sprintf(`{"pages":{"prev":"https://api.digitalocean.com/v2/sizes?page=%d","next":"https://api.digitalocean.com/v2/sizes?page=%d"}}`, n-1, n+1)
	if n == 1 {
		links = `{"pages":{"next":"https://api.digitalocean.com/v2/sizes?page=2"}}`
	}
	body := sizesPage(links, fmt.Sprintf(`{"slug":"s-%d","memory":2048,"vcpus":1,"price_monthly":12,"price_hourly":0.01786}`, n))
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Request: r,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(body))}, nil
}

// What the sizes API says is checked before it prices anything: paging
// that would never end (it used to loop for ever) and prices or shapes out
// of range (they used to wrap to negative amounts) are errors naming the
// page or the size.
func TestRefreshRefusesWhatCannotBeRight(t *testing.T) {
	t.Parallel()
	base, err := pricing.DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	const last = `{"pages":{}}`
	page1 := sizesPage(`{"pages":{"next":"https://api.digitalocean.com/v2/sizes?page=2"}}`, `{"slug":"a","price_monthly":1,"price_hourly":0.1}`)
	tests := []struct {
		name string
		api  http.RoundTripper
		want string
	}{
		{"a page again", pages{page1, page1}, "asked for page 2, the API's links say page 1"},
		{"no last page", endless{}, "more than 50 pages of 200 sizes"},
		{"huge price", pages{sizesPage(last, `{"slug":"a","price_monthly":1e300,"price_hourly":1}`), nil}, "DigitalOcean size a: price_monthly 1e+300 is out of range"},
		{"huge hourly price", pages{sizesPage(last, `{"slug":"a","price_monthly":1,"price_hourly":9.3e12}`), nil}, "DigitalOcean size a: price_hourly 9.3e+12 is out of range"},
		{"negative price", pages{sizesPage(last, `{"slug":"a","price_monthly":-1,"price_hourly":1}`), nil}, "DigitalOcean size a: negative price: price_monthly -1"},
		{"negative memory", pages{sizesPage(last, `{"slug":"a","memory":-1024,"price_monthly":1,"price_hourly":1}`), nil}, "DigitalOcean size a: negative vcpus 0 or memory -1024"},
		{"in range", pages{sizesPage(last, `{"slug":"a","memory":2048,"vcpus":1,"price_monthly":9.2e12,"price_hourly":1}`), nil}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := Refresh(context.Background(), base, Options{Token: "t", BaseURL: "http://do.invalid", HTTPClient: &http.Client{Transport: tc.api}})
			if tc.want == "" {
				if err != nil || b.Instances["a"].Monthly.Micros != 9_200_000_000_000_000_000 || b.Instances["a"].MemoryGiB != 2 {
					t.Fatalf("got %+v, %v", b, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
