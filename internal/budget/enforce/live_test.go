package enforce

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/purserhq/purser/internal/budget"
	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/snapshot/live"
	"github.com/purserhq/purser/internal/store"
	"github.com/purserhq/purser/internal/testcluster"
)

func pod(ns, name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}}}
}

// createPod creates a pod, retrying while the namespace's default
// service account does not exist yet (the controller makes it).
func createPod(t *testing.T, kube kubernetes.Interface, ns, name string) error {
	t.Helper()
	var last error
	_ = wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, last = kube.CoreV1().Pods(ns).Create(ctx, pod(ns, name), metav1.CreateOptions{})
		if last != nil && strings.Contains(last.Error(), "serviceaccount") {
			return false, nil
		}
		return true, nil
	})
	return last
}

// TestFreezeAndScaleDownLive enforces a budget with require-approval,
// block-new-resources and scale-down-dev on a real control plane: the dry
// run and the unapproved run change nothing; once approved, the API
// server refuses a new pod in the frozen namespace with a quota error and
// the downscaler puts exactly the dev namespace to sleep; when the budget
// recovers the freeze is gone, the dev namespace wakes and a pod is
// admitted; the user's own ResourceQuota is never touched; every action
// is in the action log.
func TestFreezeAndScaleDownLive(t *testing.T) {
	c := testcluster.Require(t, cluster)
	ctx := t.Context()
	kube, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []struct{ name, env string }{{"bgt-shop", "production"}, {"bgt-shop-dev", "dev"}, {"bgt-other", "dev"}} {
		team := "shop"
		if ns.name == "bgt-other" {
			team = "other"
		}
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns.name,
			Labels: map[string]string{"team": team, "environment": ns.env}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"web-1", "web-2"} {
		if err := createPod(t, kube, "bgt-shop", name); err != nil {
			t.Fatal(err)
		}
	}
	userQuota, err := kube.CoreV1().ResourceQuotas("bgt-shop").Create(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "team-quota"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("50")}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A little over 50 a day (1521 × 24/730) on the 1st and 2nd of March: past the budget of 100.
	recordDay(t, st, noon(2026, 3, 1), "shop", 1521)
	recordDay(t, st, noon(2026, 3, 2), "shop", 1521)
	now := noon(2026, 3, 2)
	cfg := budget.Config{Items: []budget.Budget{{Name: "shop", Scope: budget.Scope{Team: "shop"}, Amount: "100", Currency: "EUR",
		Thresholds: []budget.Threshold{{At: "100%", Actions: []string{budget.ActionNotify, budget.ActionRequireApproval, budget.ActionBlockNewResources, budget.ActionScaleDownDev}}}}}}
	down := &recorder{}
	evaluate := func() (*Report, *Enforcer) {
		t.Helper()
		s, err := live.Collect(ctx, c.Config, live.CollectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		nss, usage := FromSnapshot(s, classify.Rules{})
		r, err := Evaluate(ctx, st, testCluster, Inputs{Config: cfg, Engine: budget.Input{Now: now, Currency: "EUR", Namespaces: nss}, Usage: usage})
		if err != nil {
			t.Fatal(err)
		}
		return r, &Enforcer{Store: st, Cluster: testCluster, Kube: kube, Downscaler: down, Actor: "alice", Usage: usage}
	}
	freezeGone := func() bool {
		_, err := kube.CoreV1().ResourceQuotas("bgt-shop").Get(ctx, FreezeName, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}
	logged := func() []store.Action {
		acts, err := st.Actions(ctx, testCluster, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return acts
	}

	// A dry run: the steps are planned, nothing changes.
	r, _ := evaluate()
	var planned []string
	for _, s := range r.Steps {
		planned = append(planned, s.Action+" "+strings.Join(s.Namespaces, ",")+" "+s.Outcome)
	}
	wantPlan := []string{"block-new-resources bgt-shop,bgt-shop-dev waiting-approval", "notify  dry-run", "scale-down-dev bgt-shop-dev waiting-approval"}
	if !slices.Equal(planned, wantPlan) {
		t.Fatalf("planned %q, want %q", planned, wantPlan)
	}
	if !freezeGone() || len(logged()) != 0 || len(down.Calls()) != 0 {
		t.Fatal("the dry run changed something")
	}
	if a, _ := st.OpenAlerts(ctx, testCluster); len(a) != 0 {
		t.Fatalf("the dry run recorded alerts: %v", a)
	}

	// Enforced without approval: only the notification.
	r, e := evaluate()
	if err := e.Enforce(ctx, r); err != nil {
		t.Fatal(err)
	}
	if !freezeGone() || len(down.Calls()) != 0 {
		t.Fatal("held actions ran without approval")
	}
	if _, err := Approve(ctx, st, testCluster, "bob", "shop", "2026-03", now); err != nil {
		t.Fatal(err)
	}
	r, e = evaluate()
	if err := e.Enforce(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got := down.Calls(); !slices.Equal(got, []string{"sleep bgt-shop-dev"}) {
		t.Errorf("downscaler calls %v, want sleep of the dev namespace only", got)
	}
	q, err := kube.CoreV1().ResourceQuotas("bgt-shop").Get(ctx, FreezeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if q.Labels[OperationLabel] != budget.Operation("shop", "100", "2026-03", budget.ActionBlockNewResources) || q.Spec.Hard.Pods().Value() != 2 {
		t.Errorf("freeze %v hard %v, want Purser's operation label and pods=2", q.Labels, q.Spec.Hard)
	}
	// The quota controller must count the use before admission can judge.
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		q, err := kube.CoreV1().ResourceQuotas("bgt-shop").Get(ctx, FreezeName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		_, counted := q.Status.Used[corev1.ResourcePods]
		return counted, nil
	}); err != nil {
		t.Fatalf("the quota controller never counted the freeze's use: %v", err)
	}
	_, err = kube.CoreV1().Pods("bgt-shop").Create(ctx, pod("bgt-shop", "web-3"), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "exceeded quota: "+FreezeName) {
		t.Fatalf("a new pod in the frozen namespace: %v, want the API server's quota Forbidden", err)
	}

	// The budget recovers (raised): the freeze is lifted, the dev
	// namespace wakes, a pod is admitted again.
	cfg.Items[0].Amount = "1000"
	r, e = evaluate()
	if err := e.Enforce(ctx, r); err != nil {
		t.Fatal(err)
	}
	if !freezeGone() {
		t.Fatal("the freeze is still there after the budget recovered")
	}
	if got := down.Calls(); !slices.Equal(got, []string{"sleep bgt-shop-dev", "wake bgt-shop-dev"}) {
		t.Errorf("downscaler calls %v, want a wake of the dev namespace", got)
	}
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := kube.CoreV1().Pods("bgt-shop").Create(ctx, pod("bgt-shop", "web-3"), metav1.CreateOptions{})
		return err == nil, nil
	}); err != nil {
		t.Fatalf("no pod admitted after the freeze was lifted: %v", err)
	}
	after, err := kube.CoreV1().ResourceQuotas("bgt-shop").Get(ctx, "team-quota", metav1.GetOptions{})
	if err != nil || !after.Spec.Hard.Pods().Equal(*userQuota.Spec.Hard.Pods()) || after.Labels[OperationLabel] != "" {
		t.Errorf("the user's ResourceQuota changed: %v %v", after, err)
	}

	var got []string
	for _, a := range logged() {
		got = append(got, a.Kind+" "+a.Outcome+" "+a.Actor)
	}
	want := []string{"budget/notify applied alice", "budget/approve approved bob", "budget/block-new-resources applied alice",
		"budget/scale-down-dev applied alice", "budget/block-new-resources lifted alice", "budget/scale-down-dev lifted alice"}
	if !slices.Equal(got, want) {
		t.Errorf("action log %q, want %q", got, want)
	}
}
