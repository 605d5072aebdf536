package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/alert/notify"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/scenario/clusterload"
	"github.com/purserhq/purser/internal/server"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/live"
	"github.com/purserhq/purser/internal/store"
	"github.com/purserhq/purser/internal/testcluster"
	"github.com/purserhq/purser/internal/testutil/pgtest"
)

// receiver is a webhook that records every notification it is sent.
type receiver struct {
	mu   sync.Mutex
	msgs []notify.WebhookPayload
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p notify.WebhookPayload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.msgs = append(rc.msgs, p)
	rc.mu.Unlock()
}

// about counts the notifications of one status about one object.
func (rc *receiver) about(status alert.Phase, namespace, name string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, m := range rc.msgs {
		if m.Status == status && m.Alert.Labels["namespace"] == namespace && m.Alert.Labels["name"] == name {
			n++
		}
	}
	return n
}

// duplicates lists the alerts notified more than once of one status.
func (rc *receiver) duplicates() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	seen := map[string]int{}
	for _, m := range rc.msgs {
		seen[fmt.Sprintf("%s %s %d", m.Status, m.Alert.Rule, m.Alert.ID)]++
	}
	var out []string
	for k, n := range seen {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s ×%d", k, n))
		}
	}
	return out
}

func (rc *receiver) total() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.msgs)
}

// TestServeLive runs purser serve's core against BlueOcean on the local
// control plane: alerts through a Service broken and fixed, with
// restarts, on SQLite and PostgreSQL; authentication by real tokens; and
// two replicas electing one leader.
func TestServeLive(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	if err := clusterload.Load(ctx, c.Config, scenario.BlueOcean(), &progress); err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	cfg, err := config.Parse(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	h := &serveHarness{c: c, cfg: cfg}
	t.Run("alerts on sqlite", func(t *testing.T) {
		h.alertsAcrossRestarts(ctx, t, filepath.Join(t.TempDir(), "history.db"))
	})
	t.Run("alerts on postgres", func(t *testing.T) {
		h.alertsAcrossRestarts(ctx, t, pgtest.ForTest(t))
	})
	t.Run("authentication", func(t *testing.T) { h.authentication(ctx, t) })
	t.Run("two replicas", func(t *testing.T) { h.twoReplicas(ctx, t) })
}

type serveHarness struct {
	c   *testcluster.Cluster
	cfg *config.Config
}

func (h *serveHarness) scanner(clk *clocktesting.FakeClock) func(context.Context) (*action.Env, error) {
	return func(ctx context.Context) (*action.Env, error) {
		s, err := live.Collect(ctx, h.c.Config, live.CollectOptions{Context: testcluster.ContextName, Clock: clk})
		if err != nil {
			return nil, err
		}
		return action.NewEnvFor(ctx, s, h.cfg, action.PriceOptions{Offline: true})
	}
}

// newServer opens the store at target and builds a server on it, as a
// restarted process would.
func (h *serveHarness) newServer(t *testing.T, target string, clk *clocktesting.FakeClock, hook string, rules []alert.Rule, leading func() bool) (*server.Server, *store.Store) {
	t.Helper()
	st, err := store.Open(t.Context(), target)
	if err != nil {
		t.Fatal(err)
	}
	senders, err := notify.New([]alert.Notifier{{Name: "hook", Type: alert.NotifierWebhook, URLFromEnv: "HOOK"}},
		notify.Options{Getenv: func(string) string { return hook }, Backoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Options{Store: st, Cluster: testcluster.ContextName, Scan: h.scanner(clk), Clock: clk, Rules: rules,
		Senders: senders, Leading: leading, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

// healthyService picks a Service of BlueOcean that has endpoints now.
func (h *serveHarness) healthyService(ctx context.Context, t *testing.T) (string, string) {
	t.Helper()
	env, err := h.scanner(clocktesting.NewFakeClock(time.Now()))(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := action.Audit{Checks: []string{"service-no-endpoints"}}.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	broken := map[string]bool{}
	for _, f := range res.Findings {
		broken[f.Object.Namespace+"/"+f.Object.Name] = true
	}
	var names []string
	for _, s := range env.Snapshot.Services {
		if len(s.Spec.Selector) > 0 && !broken[s.Namespace+"/"+s.Name] && s.Namespace != "kube-system" {
			names = append(names, s.Namespace+"/"+s.Name)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		t.Fatal("no Service of BlueOcean has endpoints")
	}
	ns, name, _ := strings.Cut(names[0], "/")
	return ns, name
}

// waitFinding waits until the audit does (or does not) report the
// Service as without endpoints: the endpoint-slice controller takes a
// moment after a selector changes.
func (h *serveHarness) waitFinding(ctx context.Context, t *testing.T, ns, name string, want bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		env, err := h.scanner(clocktesting.NewFakeClock(time.Now()))(ctx)
		if err != nil {
			t.Fatal(err)
		}
		res, err := action.Audit{Checks: []string{"service-no-endpoints"}}.Run(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		got := slices.ContainsFunc(res.Findings, func(f audit.Finding) bool {
			return f.Object == snapshot.Ref{Kind: "Service", Namespace: ns, Name: name}
		})
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Service %s/%s: finding present %v, want %v after 2 minutes", ns, name, got, want)
		}
		time.Sleep(time.Second)
	}
}

func (h *serveHarness) alertsAcrossRestarts(ctx context.Context, t *testing.T, target string) {
	rc := &receiver{}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	ns, name := h.healthyService(ctx, t)
	clk := clocktesting.NewFakeClock(time.Now())
	rules := alert.DefaultRules()

	if out, err := h.c.Kubectl(ctx, "patch", "service", name, "-n", ns, "--type", "merge", "-p", `{"spec":{"selector":{"purser.dev/e2e":"broken"}}}`); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	fixed := false
	fix := func() {
		if fixed {
			return
		}
		fixed = true
		if out, err := h.c.Kubectl(context.WithoutCancel(ctx), "patch", "service", name, "-n", ns, "--type", "merge", "-p", `{"spec":{"selector":{"purser.dev/e2e":null}}}`); err != nil {
			t.Errorf("restoring Service %s/%s: %v\n%s", ns, name, err, out)
		}
	}
	defer fix()
	h.waitFinding(ctx, t, ns, name, true)

	scan := func(s *server.Server) {
		t.Helper()
		if _, err := s.ScanOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// First process: the finding is new, the alert pending.
	s1, st1 := h.newServer(t, target, clk, hook.URL, rules, nil)
	scan(s1)
	if n := rc.about(alert.Firing, ns, name); n != 0 {
		t.Fatalf("%d firing notifications on the first scan, want none before 24h", n)
	}
	clk.Step(25 * time.Hour)
	scan(s1)
	if n := rc.about(alert.Firing, ns, name); n != 1 {
		t.Fatalf("%d firing notifications after 25h, want exactly 1", n)
	}
	st1.Close()

	// Restarted: still firing, not notified again.
	s2, st2 := h.newServer(t, target, clk, hook.URL, rules, nil)
	clk.Step(time.Hour)
	scan(s2)
	if n := rc.about(alert.Firing, ns, name); n != 1 {
		t.Fatalf("%d firing notifications after a restart, want still 1", n)
	}
	fix()
	h.waitFinding(ctx, t, ns, name, false)
	clk.Step(time.Hour)
	scan(s2)
	if n := rc.about(alert.Resolved, ns, name); n != 1 {
		t.Fatalf("%d resolve notifications after the fix, want exactly 1", n)
	}
	st2.Close()

	// Restarted again: nothing more about it.
	s3, st3 := h.newServer(t, target, clk, hook.URL, rules, nil)
	defer st3.Close()
	clk.Step(time.Hour)
	scan(s3)
	if f, r := rc.about(alert.Firing, ns, name), rc.about(alert.Resolved, ns, name); f != 1 || r != 1 {
		t.Fatalf("%d firing and %d resolve notifications in all, want exactly 1 of each", f, r)
	}
	if d := rc.duplicates(); len(d) > 0 {
		t.Fatalf("alerts notified twice: %v", d)
	}
	// The history survived the restarts: every scan is there, and the
	// finding's one occurrence was first seen at the first scan.
	scans, err := st3.Scans(ctx, testcluster.ContextName, 0)
	if err != nil || len(scans) != 5 {
		t.Fatalf("%d scans recorded (%v), want 5", len(scans), err)
	}
	all, err := st3.Findings(ctx, store.FindingFilter{Cluster: testcluster.ContextName, Check: "service-no-endpoints", Namespace: ns, State: "resolved"})
	if err != nil || !slices.ContainsFunc(all, func(f store.Finding) bool { return f.Workload.Name == name && f.FirstSeen.Equal(scans[4].Started) }) {
		t.Fatalf("the fixed Service's finding is not resolved with its first sighting kept: %+v %v", all, err)
	}
}

// token creates a ServiceAccount and returns a token of it; with rights,
// it is bound to a ClusterRole granting get on purser.dev/reports.
func (h *serveHarness) token(ctx context.Context, t *testing.T, ns, sa string, rights bool) string {
	t.Helper()
	if _, err := h.c.Kubectl(ctx, "create", "serviceaccount", sa, "-n", ns); err != nil {
		t.Fatal(err)
	}
	if rights {
		// kubectl create clusterrole checks resources against discovery;
		// purser.dev/reports exists only in RBAC, which is the point.
		client, err := kubernetes.NewForConfig(h.c.Config)
		if err != nil {
			t.Fatal(err)
		}
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "purser-e2e-reader"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"purser.dev"}, Resources: []string{"reports"}, Verbs: []string{"get"}}}}
		if _, err := client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		if out, err := h.c.Kubectl(ctx, "create", "clusterrolebinding", "purser-e2e-"+sa, "--clusterrole=purser-e2e-reader", "--serviceaccount="+ns+":"+sa); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	out, err := h.c.Kubectl(ctx, "create", "token", sa, "-n", ns)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func (h *serveHarness) authentication(ctx context.Context, t *testing.T) {
	if _, err := h.c.Kubectl(ctx, "create", "namespace", "purser-e2e-auth"); err != nil {
		t.Fatal(err)
	}
	reader := h.token(ctx, t, "purser-e2e-auth", "reader", true)
	stranger := h.token(ctx, t, "purser-e2e-auth", "stranger", false)
	client, err := kubernetes.NewForConfig(h.c.Config)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := server.New(server.Options{Store: st, Cluster: testcluster.ContextName, Scan: h.scanner(clocktesting.NewFakeClock(time.Now())),
		Auth: &server.KubeAuth{Client: client, Attrs: server.DefaultAuthResource()}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	tests := []struct {
		name, path, token string
		want              int
	}{
		{"no token", "/api/v1/findings", "", http.StatusUnauthorized},
		{"a token the cluster did not issue", "/api/v1/findings", "not-a-token", http.StatusUnauthorized},
		{"a token without rights", "/api/v1/findings", stranger, http.StatusForbidden},
		{"a token with rights", "/api/v1/findings", reader, http.StatusOK},
		{"metrics with rights", "/metrics", reader, http.StatusOK},
		{"metrics without rights", "/metrics", stranger, http.StatusForbidden},
		{"health needs no token", "/healthz", "", http.StatusOK},
		// Cached answers stay right.
		{"again without rights", "/api/v1/scans", stranger, http.StatusForbidden},
		{"again with rights", "/api/v1/scans", reader, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+tt.path, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
		})
	}
}

func (h *serveHarness) twoReplicas(ctx context.Context, t *testing.T) {
	rc := &receiver{}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	client, err := kubernetes.NewForConfig(h.c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.Kubectl(ctx, "create", "namespace", "purser-e2e-lease"); err != nil {
		t.Fatal(err)
	}
	// Fires at once: every Service without endpoints is one notification.
	rules := []alert.Rule{{Name: "no-endpoints-now", Kind: alert.KindFindingOpen, Check: "service-no-endpoints"}}
	target := filepath.Join(t.TempDir(), "shared.db")
	clk := clocktesting.NewFakeClock(time.Now())
	ectx, stop := context.WithCancel(ctx)
	defer stop()
	var servers []*server.Server
	var leaders []*server.Leader
	for i := range 2 {
		l, err := server.Elect(ectx, server.LeaderOptions{Client: client, Namespace: "purser-e2e-lease", Identity: fmt.Sprintf("replica-%d", i),
			LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		s, st := h.newServer(t, target, clk, hook.URL, rules, l.Leading)
		defer st.Close()
		servers, leaders = append(servers, s), append(leaders, l)
	}
	deadline := time.Now().Add(time.Minute)
	for !leaders[0].Leading() && !leaders[1].Leading() {
		if time.Now().After(deadline) {
			t.Fatal("no replica became the leader within a minute")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if leaders[0].Leading() && leaders[1].Leading() {
		t.Fatal("both replicas lead")
	}
	scanned := 0
	for range 2 {
		for _, s := range servers {
			did, err := s.Tick(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if did {
				scanned++
			}
		}
		clk.Step(time.Hour)
	}
	if scanned != 2 {
		t.Fatalf("%d scans by two replicas over two rounds, want 2: the leader's", scanned)
	}
	if rc.total() == 0 {
		t.Fatal("the leader notified nothing")
	}
	if d := rc.duplicates(); len(d) > 0 {
		t.Fatalf("notified twice: %v", d)
	}
	// Both replicas serve the same reads.
	for i, s := range servers {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/alerts?phase=firing", nil))
		var got struct{ Items []alert.State }
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Items) != rc.total() {
			t.Fatalf("replica %d serves %d firing alerts (%v), want the %d notified", i, len(got.Items), err, rc.total())
		}
	}
}
