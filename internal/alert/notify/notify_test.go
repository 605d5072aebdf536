package notify

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/store"
)

// receiver records what it is sent; fail decides, per request number
// (from 1), the status to answer.
type receiver struct {
	mu     sync.Mutex
	bodies []string
	paths  []string
	fail   func(n int) int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.bodies = append(rc.bodies, string(b))
	rc.paths = append(rc.paths, r.URL.Path)
	n := len(rc.bodies)
	rc.mu.Unlock()
	if rc.fail != nil {
		if code := rc.fail(n); code != 0 {
			w.WriteHeader(code)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (rc *receiver) got() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.bodies...)
}

var at = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func firing() alert.State {
	return alert.State{ID: 1, Cluster: "prod", Rule: "service-no-endpoints", Subject: "k", Phase: alert.Firing, Severity: "warning",
		Summary: "service-no-endpoints on Service shop/<!channel>&web: no endpoints", Labels: map[string]string{"alertname": "service-no-endpoints", "namespace": "shop"},
		ActiveSince: at, FiredAt: at.Add(24 * time.Hour)}
}

func senderFor(t *testing.T, typ, url string) *Sender {
	t.Helper()
	ss, err := New([]alert.Notifier{{Name: "n", Type: typ, URLFromEnv: "URL"}}, Options{Backoff: time.Millisecond, Getenv: func(string) string { return url }})
	if err != nil {
		t.Fatal(err)
	}
	return ss[0]
}

func TestPayloads(t *testing.T) {
	t.Parallel()
	resolved := firing()
	resolved.Phase, resolved.ResolvedAt = alert.Resolved, at.Add(30*time.Hour)
	tests := []struct {
		name  string
		typ   string
		kind  alert.Phase
		a     alert.State
		path  string
		check func(t *testing.T, body string)
	}{
		{"webhook firing", alert.NotifierWebhook, alert.Firing, firing(), "/", func(t *testing.T, body string) {
			var p WebhookPayload
			if err := json.Unmarshal([]byte(body), &p); err != nil || p.Status != alert.Firing || p.Alert.Rule != "service-no-endpoints" {
				t.Fatalf("%s %v", body, err)
			}
		}},
		{"slack escapes mrkdwn", alert.NotifierSlack, alert.Firing, firing(), "/", func(t *testing.T, body string) {
			var p struct {
				Text   string `json:"text"`
				Blocks []struct {
					Text struct{ Type, Text string } `json:"text"`
				} `json:"blocks"`
			}
			if err := json.Unmarshal([]byte(body), &p); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(p.Text, "<!channel>") || !strings.Contains(p.Text, "&lt;!channel&gt;&amp;web") || !strings.Contains(p.Text, "FIRING") {
				t.Fatalf("text not escaped: %q", p.Text)
			}
			if len(p.Blocks) != 1 || p.Blocks[0].Text.Type != "mrkdwn" || p.Blocks[0].Text.Text != p.Text {
				t.Fatalf("blocks %+v", p.Blocks)
			}
		}},
		{"slack resolve", alert.NotifierSlack, alert.Resolved, resolved, "/", func(t *testing.T, body string) {
			if !strings.Contains(body, "RESOLVED") {
				t.Fatal(body)
			}
		}},
		{"alertmanager firing", alert.NotifierAlertmanager, alert.Firing, firing(), "/am/api/v2/alerts", func(t *testing.T, body string) {
			var p []amAlert
			if err := json.Unmarshal([]byte(body), &p); err != nil || len(p) != 1 {
				t.Fatalf("%s %v", body, err)
			}
			if !p[0].StartsAt.Equal(at.Add(24*time.Hour)) || !p[0].EndsAt.After(at.Add(60*24*time.Hour)) || p[0].Labels["alertname"] != "service-no-endpoints" ||
				p[0].Annotations["summary"] == "" || !strings.HasPrefix(p[0].GeneratorURL, "https://purser.example/api/v1/alerts") {
				t.Fatalf("%+v", p[0])
			}
		}},
		{"alertmanager resolve ends the alert", alert.NotifierAlertmanager, alert.Resolved, resolved, "/am/api/v2/alerts", func(t *testing.T, body string) {
			var p []amAlert
			if err := json.Unmarshal([]byte(body), &p); err != nil || !p[0].EndsAt.Equal(at.Add(30*time.Hour)) {
				t.Fatalf("%s %v", body, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc := &receiver{}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			base := srv.URL
			if tt.typ == alert.NotifierAlertmanager {
				base += "/am/"
			}
			if err := senderFor(t, tt.typ, base).Send(t.Context(), Message{Kind: tt.kind, Alert: tt.a, ExternalURL: "https://purser.example"}); err != nil {
				t.Fatal(err)
			}
			if len(rc.got()) != 1 || rc.paths[0] != tt.path {
				t.Fatalf("%d deliveries to %v, want 1 to %s", len(rc.got()), rc.paths, tt.path)
			}
			tt.check(t, rc.got()[0])
		})
	}
}

func TestSendRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fail     func(int) int
		wantErr  bool
		requests int
	}{
		{"5xx then success", func(n int) int { return map[int]int{1: 503, 2: 502}[n] }, false, 3},
		{"429 retried", func(n int) int { return map[int]int{1: 429}[n] }, false, 2},
		{"4xx is final", func(int) int { return 400 }, true, 1},
		{"always down", func(int) int { return 500 }, true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc := &receiver{fail: tt.fail}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			secret := srv.URL + "/hooks/T000/SECRET"
			err := senderFor(t, alert.NotifierWebhook, secret).Send(t.Context(), Message{Kind: alert.Firing, Alert: firing()})
			if (err != nil) != tt.wantErr || len(rc.got()) != tt.requests {
				t.Fatalf("error %v, %d requests; want error %v, %d requests", err, len(rc.got()), tt.wantErr, tt.requests)
			}
			if err != nil && strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("the error shows the secret URL: %v", err)
			}
		})
	}
}

func TestNetworkErrorHidesURL(t *testing.T) {
	t.Parallel()
	s := senderFor(t, alert.NotifierWebhook, "http://127.0.0.1:1/hooks/SECRET")
	s.Attempts = 1
	err := s.Send(t.Context(), Message{Kind: alert.Firing, Alert: firing()})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("error %v: want one without the URL", err)
	}
}

func TestNewReadsURLs(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "url")
	if err := writeFile(file, "https://hooks.example/x\n"); err != nil {
		t.Fatal(err)
	}
	ss, err := New([]alert.Notifier{{Name: "f", Type: alert.NotifierSlack, URLFromFile: file}}, Options{})
	if err != nil || ss[0].url != "https://hooks.example/x" {
		t.Fatalf("%v %v", ss, err)
	}
	_, err = New([]alert.Notifier{{Name: "e", Type: alert.NotifierSlack, URLFromEnv: "X"}}, Options{Getenv: func(string) string { return "xoxb-not-a-url" }})
	if err == nil || strings.Contains(err.Error(), "xoxb") {
		t.Fatalf("a value that is no URL must be refused without being shown: %v", err)
	}
	if _, err := New([]alert.Notifier{{Name: "e", Type: alert.NotifierSlack, URLFromEnv: "X"}}, Options{Getenv: func(string) string { return "" }}); err == nil {
		t.Fatal("an unset variable must be an error")
	}
}

// TestDeliverExactlyOnce runs the outbox against a real store: a failed
// delivery stays unsent and goes out on the next round; a delivered one
// never goes out again.
func TestDeliverExactlyOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	down := true
	var mu sync.Mutex
	rc := &receiver{fail: func(int) int {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return 503
		}
		return 0
	}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := senderFor(t, alert.NotifierWebhook, srv.URL)
	a := firing()
	a.ID = 0
	if err := st.ApplyAlerts(ctx, "prod", []alert.Transition{{From: alert.Inactive, State: a}}, []string{"n"}, at); err != nil {
		t.Fatal(err)
	}
	clk := clocktesting.NewFakePassiveClock(at)
	log := slog.New(slog.DiscardHandler)
	r, err := Deliver(ctx, st, "prod", []*Sender{s}, "", clk, log)
	if err != nil || r.Sent != 0 || r.Failed != 1 {
		t.Fatalf("receiver down: %+v %v", r, err)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	before := len(rc.got())
	for range 3 {
		if _, err := Deliver(ctx, st, "prod", []*Sender{s}, "", clk, log); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(rc.got()) - before; n != 1 {
		t.Fatalf("%d deliveries once the receiver is back, want exactly 1", n)
	}
}

func writeFile(name, data string) error { return os.WriteFile(name, []byte(data), 0o600) }
