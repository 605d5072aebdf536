package scenario_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/purserhq/purser/internal/atomicfile"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/scenario/clusterload"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/live"
	"github.com/purserhq/purser/internal/testcluster"
	"github.com/purserhq/purser/internal/testutil/demo"
	"github.com/purserhq/purser/internal/testutil/golden"
)

// TestBlueOceanLive loads BlueOcean into the local control plane, collects
// a live snapshot and checks it against the embedded one and against the
// seed's faults; then reads the same cluster from kubectl's YAML export and
// as a user who may not list Secrets. With -update it re-records the
// embedded snapshot from the live one.
func TestBlueOceanLive(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx := t.Context()
	var progress bytes.Buffer
	if err := clusterload.Load(ctx, c.Config, scenario.BlueOcean(), &progress); err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var events eventLog
	snap, err := live.Collect(ctx, c.Config, live.CollectOptions{Events: events.add})
	if err != nil {
		t.Fatal(err)
	}
	events.check(t, snap, 0)
	if golden.Update() {
		if err := atomicfile.Write(t.Context(), filepath.Join("testdata", "blueocean.snap"), atomicfile.Public, func(w io.Writer) error { return snapshot.Encode(t.Context(), w, snap) }); err != nil {
			t.Fatal(err)
		}
		t.Log("re-recorded testdata/blueocean.snap")
	}
	ix := snapshot.NewIndex(snap)
	got := snapshot.Summarize(ix)

	t.Run("seed figures", func(t *testing.T) {
		if got.Nodes != 27 || len(got.Pools) != 6 || got.Namespaces != 69 || len(got.Empty) != 18 {
			t.Fatalf("nodes %d pools %d namespaces %d empty %d, want 27, 6, 69, 18", got.Nodes, len(got.Pools), got.Namespaces, len(got.Empty))
		}
		for _, p := range got.Pools {
			if p.Ready != p.Nodes {
				t.Errorf("pool %s: %d of %d nodes ready", p.Name, p.Ready, p.Nodes)
			}
		}
	})

	t.Run("same as embedded", func(t *testing.T) {
		want := snapshot.Summarize(snapshot.NewIndex(demo.Snapshot(t)))
		compareSummaries(t, want, got)
	})

	t.Run("pending daemonset pod", func(t *testing.T) {
		var found bool
		for i := range snap.Pods {
			p := &snap.Pods[i]
			if !strings.HasPrefix(p.Name, "prometheus-node-exporter-") || p.Spec.NodeName != "" {
				continue
			}
			found = true
			msg := scheduledMessage(p)
			if !strings.Contains(msg, "0/27 nodes are available: 1 Insufficient cpu") || !strings.Contains(msg, "26 node(s) didn't satisfy plugin(s) [NodeAffinity]") {
				t.Errorf("scheduler message = %q", msg)
			}
		}
		if !found {
			t.Fatal("no Pending node-exporter pod")
		}
	})

	t.Run("crash-looping pod", func(t *testing.T) {
		for _, p := range ix.PodsInNamespace("onlyoneapi-prod") {
			if !strings.HasPrefix(p.Name, "public-api-") {
				continue
			}
			cs := p.Status.ContainerStatuses
			if len(cs) != 1 || cs[0].RestartCount != 301 || cs[0].State.Waiting == nil || cs[0].State.Waiting.Reason != "CrashLoopBackOff" {
				t.Fatalf("public-api container status = %+v", cs)
			}
			if snapshot.PodStatusPhrase(p) != "CrashLoopBackOff" {
				t.Errorf("status phrase = %q", snapshot.PodStatusPhrase(p))
			}
			return
		}
		t.Fatal("no public-api pod")
	})

	t.Run("service without ready endpoints", func(t *testing.T) {
		for _, svc := range []string{"prometheus-server", "alertmanager", "prometheus-node-exporter"} {
			if n := ix.ReadyEndpoints("monitoring", svc); n != 0 {
				t.Errorf("monitoring/%s has %d ready endpoints, want 0", svc, n)
			}
			if len(ix.EndpointSlicesOf("monitoring", svc)) == 0 {
				t.Errorf("monitoring/%s has no EndpointSlice at all", svc)
			}
		}
		if n := ix.ReadyEndpoints("monitoring", "grafana"); n != 1 {
			t.Errorf("monitoring/grafana has %d ready endpoints, want 1", n)
		}
		if n := ix.ReadyEndpoints("onlyoneapi-prod", "public-api"); n != 0 {
			t.Errorf("public-api has %d ready endpoints, want 0 (its pod crash-loops)", n)
		}
	})

	t.Run("secrets never carry values", func(t *testing.T) {
		for _, s := range snap.Secrets {
			if s.Data != nil || s.StringData != nil {
				t.Fatalf("secret %s/%s kept values", s.Namespace, s.Name)
			}
		}
		for _, s := range snap.Secrets {
			if s.Name == "postgres-credentials" && s.Type != corev1.SecretTypeOpaque {
				t.Fatalf("secret type = %q, want Opaque", s.Type)
			}
		}
	})

	t.Run("kubectl export", func(t *testing.T) {
		kinds := []string{"nodes", "namespaces", "pods", "services", "endpointslices", "deployments", "replicasets",
			"statefulsets", "daemonsets", "jobs", "cronjobs", "horizontalpodautoscalers", "poddisruptionbudgets", "configmaps",
			"secrets", "serviceaccounts", "persistentvolumeclaims", "persistentvolumes", "storageclasses", "ingresses",
			"networkpolicies", "resourcequotas", "limitranges", "roles", "rolebindings", "clusterroles", "clusterrolebindings"}
		out, err := c.Kubectl(ctx, "get", strings.Join(kinds, ","), "-A", "-o", "yaml")
		if err != nil {
			t.Fatalf("kubectl get: %v", err)
		}
		path := filepath.Join(t.TempDir(), "dump.yaml")
		if err := os.WriteFile(path, out, 0o600); err != nil {
			t.Fatal(err)
		}
		fromFile, err := snapshot.Load(t.Context(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		compareSummaries(t, got, snapshot.Summarize(snapshot.NewIndex(fromFile)))
	})

	t.Run("forbidden kind is unknown, not empty", func(t *testing.T) {
		cfg := restrictedConfig(ctx, t, c.Config)
		// Small pages, so that pods take several.
		var events eventLog
		s, err := live.Collect(ctx, cfg, live.CollectOptions{PageSize: 50, Events: events.add})
		if err != nil {
			t.Fatalf("collect as a restricted user: %v", err)
		}
		events.check(t, s, 50)
		if got := events.last("secrets"); got.Type != snapshot.ListUnreadable || !strings.Contains(got.Reason, "forbidden") {
			t.Errorf("last secrets event = %+v, want unreadable: forbidden", got)
		}
		var secrets snapshot.KindStatus
		for _, k := range s.Meta.Kinds {
			if k.Resource == "secrets" {
				secrets = k
			}
		}
		if secrets.Listed() || !strings.Contains(secrets.Error, "forbidden") {
			t.Fatalf("secrets status = %+v, want forbidden", secrets)
		}
		sum := snapshot.Summarize(snapshot.NewIndex(s))
		if len(sum.Empty) != 0 || len(sum.UnknownNamespaces) != 18 {
			t.Fatalf("empty %v, unknown %d; want none empty and 18 unknown", sum.Empty, len(sum.UnknownNamespaces))
		}
	})

	t.Run("unreachable API server", func(t *testing.T) {
		cfg := rest.CopyConfig(c.Config)
		cfg.Host = "https://127.0.0.1:1"
		cfg.Timeout = 5 * time.Second
		_, err := live.Collect(ctx, cfg, live.CollectOptions{})
		if err == nil || !strings.Contains(err.Error(), "cannot reach the Kubernetes API server at https://127.0.0.1:1") {
			t.Fatalf("err = %v", err)
		}
	})
}

// eventLog records a collection's events; the collector delivers them one
// at a time.
type eventLog struct{ events []snapshot.ListEvent }

func (l *eventLog) add(e snapshot.ListEvent) { l.events = append(l.events, e) }

func (l *eventLog) last(gr string) snapshot.ListEvent {
	var found snapshot.ListEvent
	for _, e := range l.events {
		if e.GroupResource == gr {
			found = e
		}
	}
	return found
}

// check verifies the events of one collection against its snapshot: per
// kind a start, pages, then one end carrying the kind's count, a
// finished-lists count growing by one per end, and with pageSize, pages
// of at most that many objects (0: unchecked).
func (l *eventLog) check(t *testing.T, s *snapshot.Snapshot, pageSize int) {
	t.Helper()
	if len(l.events) == 0 {
		t.Fatal("no events")
	}
	total := l.events[0].Total
	counts := map[string]int{}
	for _, k := range s.Meta.Kinds {
		counts[k.GroupResource()] = k.Count
	}
	state := map[string]snapshot.ListEvent{}
	done, maxPages := 0, 0
	pages := map[string]int{}
	for i, e := range l.events {
		prev, seen := state[e.GroupResource]
		switch {
		case e.Total != total:
			t.Fatalf("event %d: total %d, then %d", i, total, e.Total)
		case e.Type == snapshot.ListStarted && seen:
			t.Fatalf("event %d: %s started twice", i, e.GroupResource)
		case e.Type != snapshot.ListStarted && (!seen || prev.Type == snapshot.ListDone || prev.Type == snapshot.ListUnreadable):
			t.Fatalf("event %d: %s %s out of order (after %v)", i, e.GroupResource, e.Type, prev.Type)
		case e.Type == snapshot.ListPage && pageSize > 0 && e.Items-prev.Items > pageSize:
			t.Fatalf("event %d: a page of %d %s, more than %d", i, e.Items-prev.Items, e.GroupResource, pageSize)
		case e.Elapsed < prev.Elapsed:
			t.Fatalf("event %d: elapsed went back", i)
		}
		switch e.Type {
		case snapshot.ListPage:
			pages[e.GroupResource]++
			maxPages = max(maxPages, pages[e.GroupResource])
		case snapshot.ListDone, snapshot.ListUnreadable:
			done++
			if e.Done != done {
				t.Fatalf("event %d: done %d, want %d", i, e.Done, done)
			}
			if e.Type == snapshot.ListDone && e.Items != counts[e.GroupResource] {
				t.Errorf("%s: done with %d items, the snapshot holds %d", e.GroupResource, e.Items, counts[e.GroupResource])
			}
		}
		state[e.GroupResource] = e
	}
	if done != total {
		t.Fatalf("%d lists ended, %d announced", done, total)
	}
	for _, k := range snapshot.ModelledKinds() {
		if _, ok := state[k.GroupResource()]; !ok {
			t.Errorf("no events for %s", k.GroupResource())
		}
	}
	if pageSize > 0 && maxPages < 2 {
		t.Errorf("no list took more than one page of %d", pageSize)
	}
}

func scheduledMessage(p *corev1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			return c.Message
		}
	}
	return ""
}

func compareSummaries(t *testing.T, want, got snapshot.Summary) {
	t.Helper()
	if got.Nodes != want.Nodes || got.Namespaces != want.Namespaces || got.Pods != want.Pods {
		t.Errorf("nodes/namespaces/pods = %d/%d/%d, want %d/%d/%d", got.Nodes, got.Namespaces, got.Pods, want.Nodes, want.Namespaces, want.Pods)
	}
	if !reflect.DeepEqual(got.Pools, want.Pools) {
		t.Errorf("pools = %+v, want %+v", got.Pools, want.Pools)
	}
	if !reflect.DeepEqual(got.Empty, want.Empty) {
		t.Errorf("empty = %v, want %v", got.Empty, want.Empty)
	}
	if !reflect.DeepEqual(got.PodsByPhase, want.PodsByPhase) {
		t.Errorf("pods by phase = %v, want %v", got.PodsByPhase, want.PodsByPhase)
	}
	for kind, n := range want.Objects {
		if got.Objects[kind] != n {
			t.Errorf("%s: %d, want %d", kind, got.Objects[kind], n)
		}
	}
}

// restrictedConfig returns a config for a ServiceAccount that may list
// everything but Secrets, with a token from the TokenRequest API.
func restrictedConfig(ctx context.Context, t *testing.T, admin *rest.Config) *rest.Config {
	t.Helper()
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	const ns, name = "default", "purser-reader"
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list"}},
	}}
	// The built-in view role excludes Secrets; a role listing everything
	// else is built from view's own rules to stay close to real setups.
	view, err := cs.RbacV1().ClusterRoles().Get(ctx, "view", metav1.GetOptions{})
	if err == nil && len(view.Rules) > 0 {
		role.Rules = append(view.Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"nodes", "persistentvolumes", "namespaces"}, Verbs: []string{"get", "list"}},
			rbacv1.PolicyRule{APIGroups: []string{"storage.k8s.io", "rbac.authorization.k8s.io"}, Resources: []string{"*"}, Verbs: []string{"get", "list"}})
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tok, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(admin)
	cfg.BearerToken = tok.Status.Token
	return cfg
}

func ptr[T any](v T) *T { return &v }
