package downscale_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/cli"
	"github.com/purserhq/purser/internal/downscale/engine"
	"github.com/purserhq/purser/internal/store"
)

// TestCLILive drives the commands as a user would: a dry run changes
// nothing, --approve sleeps and records in the action log, status says
// since when, and wake --for wakes and marks the namespace.
func TestCLILive(t *testing.T) {
	t.Parallel()
	l := newLive(t, "dev-cli")
	ctx := t.Context()
	// A window that covers every hour, so the real clock is always in it.
	nsObj, err := l.kube.CoreV1().Namespaces().Get(ctx, l.ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nsObj.Annotations = map[string]string{engine.AnnoSchedule: "Mon-Sun 00:00-24:00 UTC"}
	if _, err := l.kube.CoreV1().Namespaces().Update(ctx, nsObj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	l.deployment(t, "web", 3, nil)
	db := filepath.Join(t.TempDir(), "history.db")
	purser := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		root := cli.NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		root.SetArgs(append([]string{"--kubeconfig", cluster.Kubeconfig}, args...))
		err := root.ExecuteContext(ctx)
		return out.String(), errOut.String(), err
	}
	started := time.Now().Add(-time.Minute)

	out, stderr, err := purser("downscale", "run", "-n", l.ns)
	if err != nil || !strings.Contains(out, "Deployment/dev-cli/web") || !strings.Contains(stderr, "--approve") || l.replicas(t, "web") != 3 {
		t.Fatalf("dry run: %v, replicas %d\n%s\n%s", err, l.replicas(t, "web"), out, stderr)
	}
	if out, stderr, err = purser("downscale", "run", "-n", l.ns, "--approve", "--store", db); err != nil || l.replicas(t, "web") != 0 {
		t.Fatalf("approved run: %v, replicas %d\n%s\n%s", err, l.replicas(t, "web"), out, stderr)
	}
	if !strings.Contains(out, "Deployment/dev-cli/web  sleep   done") {
		t.Errorf("approved run output:\n%s", out)
	}
	out, _, err = purser("downscale", "status", "-n", l.ns, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var st cli.DownscaleResult
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Plan.Decisions) != 1 || st.Plan.Decisions[0].Since == nil || st.Plan.Decisions[0].Original != 3 || !strings.HasPrefix(st.Plan.Decisions[0].Reason, "asleep") {
		t.Errorf("status: %+v", st.Plan.Decisions)
	}
	if out, stderr, err = purser("downscale", "wake", l.ns, "--for", "2h", "--approve", "--store", db, "--reason", "demo"); err != nil || l.replicas(t, "web") != 3 {
		t.Fatalf("wake: %v, replicas %d\n%s\n%s", err, l.replicas(t, "web"), out, stderr)
	}
	nsObj, _ = l.kube.CoreV1().Namespaces().Get(ctx, l.ns, metav1.GetOptions{})
	until, err := time.Parse(time.RFC3339, nsObj.Annotations[engine.AnnoAwakeUntil])
	if err != nil || time.Until(until) < 119*time.Minute || time.Until(until) > 121*time.Minute {
		t.Errorf("awake until %q", nsObj.Annotations[engine.AnnoAwakeUntil])
	}
	// Within the two hours a run keeps it awake.
	if _, _, err = purser("downscale", "run", "-n", l.ns, "--approve"); err != nil || l.replicas(t, "web") != 3 {
		t.Errorf("run during the wake: %v, replicas %d", err, l.replicas(t, "web"))
	}

	s, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	actions, err := s.Actions(ctx, "purser-local", started)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range actions {
		got = append(got, a.Kind+" "+a.Object+" "+a.Outcome)
	}
	want := "downscale-sleep Deployment/dev-cli/web done; downscale-wake Deployment/dev-cli/web done"
	if strings.Join(got, "; ") != want {
		t.Errorf("action log %q, want %q", strings.Join(got, "; "), want)
	}
}
