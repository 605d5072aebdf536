package apply_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/apply"
	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot/live"
	"github.com/purserhq/purser/internal/testcluster"
)

// TestNamespaceHoldsLive: the emptiness check before each deletion finds
// what the namespace controller would have to delete, custom resources
// included, and nothing of what Kubernetes puts in every namespace. It
// keeps to its own namespaces.
func TestNamespaceHoldsLive(t *testing.T) {
	// Its own namespace: it runs beside the other tests of one namespace.
	t.Parallel()
	c := testcluster.Require(t, cluster)
	ctx := t.Context()
	kube, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"apply-holds-empty", "apply-holds-full"} {
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	}
	// The default ServiceAccount and kube-root-ca.crt arrive from the
	// controllers; a legacy token Secret of the default ServiceAccount is
	// a default too, another ServiceAccount's is content.
	token := func(name, sa string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{corev1.ServiceAccountNameKey: sa}},
			Type: corev1.SecretTypeServiceAccountToken}
	}
	if _, err := kube.CoreV1().Secrets("apply-holds-empty").Create(ctx, token("default-token", "default"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	full := "apply-holds-full"
	if _, err := kube.CoreV1().ServiceAccounts(full).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.CoreV1().Secrets(full).Create(ctx, token("robot-token", "robot"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.CoreV1().Secrets(full).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "opaque"}, StringData: map[string]string{"k": "v"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Kubectl(ctx, "create", "role", "reader", "-n", full, "--verb=get", "--resource=pods"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		cms, err := kube.CoreV1().ConfigMaps("apply-holds-empty").List(ctx, metav1.ListOptions{})
		if err == nil && len(cms.Items) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("kube-root-ca.crt never arrived")
		}
		time.Sleep(200 * time.Millisecond)
	}
	found, unknown, err := apply.NamespaceHolds(ctx, c.Config, "apply-holds-empty")
	if err != nil || len(found) != 0 || len(unknown) != 0 {
		t.Errorf("an empty namespace holds %v, unknown %v, %v", found, unknown, err)
	}
	found, unknown, err = apply.NamespaceHolds(ctx, c.Config, full)
	want := []string{"Role reader", "Secret opaque", "Secret robot-token", "ServiceAccount robot"}
	if err != nil || !slices.Equal(found, want) || len(unknown) != 0 {
		t.Errorf("a full namespace holds %v, unknown %v, %v; want %v", found, unknown, err, want)
	}
}

// TestStuckTerminatingLive: a namespace whose content keeps a finalizer
// stays Terminating; the wait ends at its bound and says what the
// namespace controller waits for, and the finalizer is left in place.
func TestStuckTerminatingLive(t *testing.T) {
	// Its own namespace: it runs beside the other tests of one namespace.
	t.Parallel()
	c := testcluster.Require(t, cluster)
	ctx := t.Context()
	kube, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	const name, hold = "apply-stuck", "purser.dev/test-hold"
	ns, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{hold}}}
	if _, err := kube.CoreV1().ConfigMaps(name).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	release := func() {
		_, _ = kube.CoreV1().ConfigMaps(name).Patch(context.Background(), "held", types.JSONPatchType,
			[]byte(`[{"op":"remove","path":"/metadata/finalizers"}]`), metav1.PatchOptions{})
	}
	t.Cleanup(release)
	if err := kube.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var werr error
	for range 30 {
		// The controller sets its conditions once it has tried to empty
		// the namespace; wait until it says what holds it.
		werr = apply.WaitGone(ctx, c.Config, name, string(ns.UID), 2*time.Second)
		if werr != nil && strings.Contains(werr.Error(), hold) {
			break
		}
	}
	for _, want := range []string{"namespace apply-stuck is still Terminating after 2s", "purser never strips them",
		"NamespaceFinalizersRemaining: Some content in the namespace has finalizers remaining: " + hold} {
		if werr == nil || !strings.Contains(werr.Error(), want) {
			t.Errorf("the wait says %v, want %q", werr, want)
		}
	}
	got, err := kube.CoreV1().ConfigMaps(name).Get(ctx, "held", metav1.GetOptions{})
	if err != nil || !slices.Contains(got.Finalizers, hold) {
		t.Errorf("the finalizer is gone: %v %v", got, err)
	}
	release()
	if err := apply.WaitGone(ctx, c.Config, name, string(ns.UID), time.Minute); err != nil {
		t.Errorf("released, the namespace did not go: %v", err)
	}
}

// TestHeldNamespaceLive carries out a plan of one namespace that a
// finalizer of its own holds: the step fails at the end of its wait,
// saying so, and is journalled as intended, not done; once the finalizer
// is released, --resume records it done without deleting anything again.
func TestHeldNamespaceLive(t *testing.T) {
	// Its own namespace: it runs beside the other tests of one namespace.
	t.Parallel()
	c := testcluster.Require(t, cluster)
	ctx := t.Context()
	kube, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	const name, hold = "apply-held", "purser.dev/test-hold"
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Finalizers: []string{hold}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	release := func() {
		_, _ = kube.CoreV1().Namespaces().Patch(context.Background(), name, types.JSONPatchType,
			[]byte(`[{"op":"remove","path":"/metadata/finalizers"}]`), metav1.PatchOptions{})
	}
	t.Cleanup(func() {
		release()
		_ = kube.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	p := onePlan(t, c, name)
	// The plan must come from this cluster; another version is a warning.
	for _, tc := range []struct {
		edit          func(p *plan.Plan)
		error, warned string
	}{
		{func(p *plan.Plan) { p.Metadata.Source = "live:https://elsewhere:6443" }, "the plan was built from live:https://elsewhere:6443, not from this cluster (live:" + c.Config.Host + ")", ""},
		{func(p *plan.Plan) { p.Metadata.Source, p.Metadata.Context = "live:https://elsewhere:6443", "prod" },
			"the plan was built from context prod (live:https://elsewhere:6443), not from this cluster (live:" + c.Config.Host + "): nothing was changed; run it with --context prod", ""},
		{func(p *plan.Plan) { p.Metadata.KubernetesVersion = "v1.0.0" }, "", "the plan was built on Kubernetes v1.0.0, the cluster now runs v1."},
	} {
		other := *p
		tc.edit(&other)
		var err error
		if other.Metadata.ContentHash, err = other.Hash(); err != nil {
			t.Fatal(err)
		}
		rep, err := apply.Apply(ctx, c.Config, apply.Options{Plan: &other})
		if tc.error != "" && (err == nil || !strings.Contains(err.Error(), tc.error)) {
			t.Errorf("got %v, want %q", err, tc.error)
		}
		if tc.warned != "" && (err != nil || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], tc.warned) || rep.Steps[0].Status != apply.StatusDryRun) {
			t.Errorf("got %v %+v, want the warning %q", err, rep, tc.warned)
		}
	}
	dir := filepath.Join(t.TempDir(), "op")
	rep, err := apply.Apply(ctx, c.Config, apply.Options{Plan: p, Approve: p.Metadata.ContentHash, Confirmed: []string{name}, Dir: dir, Wait: 3 * time.Second})
	for _, want := range []string{"step 1: namespace apply-held is still Terminating after 3s", hold + ": purser never strips them)", "--resume"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a held namespace: %v, want %q", err, want)
		}
	}
	if rep == nil || rep.Steps[0].Status != apply.StatusFailed {
		t.Fatalf("report %+v", rep)
	}
	journal := filepath.Join(dir, apply.JournalFile)
	if n := journalTypes(t, journal); n[apply.RecordIntent] != 1 || n[apply.RecordDone] != 0 {
		t.Errorf("journal %v", n)
	}
	ns, err := kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if err != nil || !slices.Contains(ns.Finalizers, hold) || ns.DeletionTimestamp == nil {
		t.Fatalf("the held namespace: %+v %v", ns, err)
	}

	release()
	rep, err = apply.Apply(ctx, c.Config, apply.Options{Plan: p, Approve: p.Metadata.ContentHash, Confirmed: []string{name}, Resume: journal})
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if s := rep.Steps[0]; s.Status != apply.StatusDone || (s.Message != "already gone" && s.Message != "already Terminating; waited for it to go") {
		t.Errorf("resumed step: %s %s", s.Status, s.Message)
	}
	if n := journalTypes(t, journal); n[apply.RecordDone] != 1 || n[apply.RecordEnd] != 1 {
		t.Errorf("journal %v", n)
	}

	// Someone creates the namespace again: a rollback leaves it alone.
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rrep, err := apply.Rollback(ctx, c.Config, apply.RollbackOptions{Journal: journal, Approve: p.Metadata.ContentHash})
	if err == nil || !strings.Contains(err.Error(), "rollback: 1 objects left as they are: Namespace "+name) ||
		rrep.Steps[0].Status != apply.StatusBlocked || !strings.Contains(rrep.Steps[0].Message, "exists again with another uid") {
		t.Errorf("rollback over a namespace created again: %v %+v", err, rrep)
	}
	if err := kube.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the namespace created again did not go")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Gone, it is restored with its own finalizer; the journal of a run
	// rolled back cannot be resumed.
	if _, err := apply.Rollback(ctx, c.Config, apply.RollbackOptions{Journal: journal, Approve: p.Metadata.ContentHash}); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	back, err := kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if err != nil || !slices.Equal(back.Finalizers, []string{hold}) {
		t.Errorf("restored: %+v %v", back, err)
	}
	if _, err := apply.Apply(ctx, c.Config, apply.Options{Plan: p, Approve: p.Metadata.ContentHash, Confirmed: []string{name}, Resume: journal}); err == nil ||
		!strings.Contains(err.Error(), "the run was rolled back") {
		t.Errorf("resuming a rolled-back run: %v", err)
	}
}

// onePlan builds the empty plan of the live cluster and keeps the deletion
// of one namespace: a plan of its own, with its own hash, that leaves
// BlueOcean's namespaces to the other tests.
func onePlan(t *testing.T, c *testcluster.Cluster, name string) *plan.Plan {
	t.Helper()
	s, err := live.Collect(t.Context(), c.Config, live.CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	env, err := action.NewEnvFor(t.Context(), s, cfg, action.PriceOptions{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := action.Plan{Strategy: plan.StrategyEmpty}.Run(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	keep := func(n string) bool { return n == name }
	p.Spec.Deletions = slices.DeleteFunc(p.Spec.Deletions, func(d plan.Deletion) bool { return !keep(d.Namespace) })
	p.Spec.Preconditions = slices.DeleteFunc(p.Spec.Preconditions, func(c plan.Precondition) bool { return !keep(c.Name) })
	if len(p.Spec.Deletions) != 1 || len(p.Spec.Preconditions) != 1 {
		t.Fatalf("the live empty plan does not delete %s: %+v", name, p.Spec.Deletions)
	}
	if p.Metadata.ContentHash, err = p.Hash(); err != nil {
		t.Fatal(err)
	}
	return p
}
