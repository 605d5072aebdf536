package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/server"
)

func TestServeFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"auth none off loopback", []string{"serve", "--store", "h.db", "--auth", "none"}, "loopback address only"},
		{"auth none on all addresses", []string{"serve", "--store", "h.db", "--auth", "none", "--listen", "0.0.0.0:8080"}, "loopback address only"},
		{"unknown auth", []string{"serve", "--store", "h.db", "--auth", "basic"}, "expected kubernetes or none"},
		{"no store", []string{"serve", "--listen", "127.0.0.1:0", "--auth", "none"}, "--store is required"},
		{"interval too short", []string{"serve", "--store", "h.db", "--interval", "5s"}, "at least 1m"},
		{"bad auth resource", []string{"serve", "--store", "h.db", "--auth-resource", "reports"}, "expected GROUP/RESOURCE"},
		{"leader election of the demo", []string{"serve", "--demo", "--leader-elect", "--listen", "127.0.0.1:0", "--auth", "none"}, "the demo has none"},
		{"namespace refused", []string{"serve", "--store", "h.db", "-n", "shop"}, "does not narrow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
			root.SetArgs(tt.args)
			err := root.ExecuteContext(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:8080": true, "localhost:8080": true, "127.0.0.2:1": true,
		":8080": false, "0.0.0.0:8080": false, "10.0.0.1:8080": false, "example.com:80": false, "garbage": false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// lockedBuffer is written by the command and read by the test at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeDemo runs `purser serve --demo` as a user would, reads its
// API, and stops it as SIGTERM would (its context ends): it returns
// cleanly and removes its temporary database.
func TestServeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the demo; skipped under -short")
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errOut := &lockedBuffer{}
	root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: errOut})
	root.SetArgs([]string{"serve", "--demo", "--listen", "127.0.0.1:0", "--auth", "none"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	re := regexp.MustCompile(`on http://(127\.0\.0\.1:\d+) \(history in sqlite (\S+)`)
	var addr, db string
	deadline := time.Now().Add(time.Minute)
	for addr == "" {
		if m := re.FindStringSubmatch(errOut.String()); m != nil {
			addr, db = m[1], m[2]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v\n%s", err, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, err := http.Get("http://" + addr + "/api/v1/scans?limit=0")
	if err != nil {
		t.Fatal(err)
	}
	var scans struct {
		Cluster string
		Items   []struct{ ID int64 }
	}
	err = json.NewDecoder(resp.Body).Decode(&scans)
	resp.Body.Close()
	if err != nil || scans.Cluster != "demo:blueocean" || len(scans.Items) != server.DemoDays+1 {
		t.Fatalf("scans of %q: %d (%v), want the %d days of made-up history and today's", scans.Cluster, len(scans.Items), err, server.DemoDays)
	}
	// The dashboard is mounted at / and shows the scan the server just ran:
	// the Prometheus Service that had no endpoints for 103 days.
	for path, want := range map[string]string{"/": "Open findings", "/findings?check=service-no-endpoints": "prometheus-server"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Fatalf("GET %s: %d (%v), want a page that says %q", path, resp.StatusCode, err, want)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("the demo's temporary database %s is still there: %v", db, err)
	}
}
