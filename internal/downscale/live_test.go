package downscale_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/purserhq/purser/internal/downscale"
	"github.com/purserhq/purser/internal/downscale/engine"
	"github.com/purserhq/purser/internal/testcluster"
)

// cluster is the control plane every test of the package shares, with
// Argo CD's Application CRD installed; each test keeps to its namespace.
var cluster *testcluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(testcluster.Main(m, func(c *testcluster.Cluster) error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		crd := filepath.Join("..", "govern", "testdata", "argocd", "application-crd.yaml")
		if _, err := c.Kubectl(ctx, "apply", "--server-side", "-f", crd); err != nil {
			return err
		}
		// kubectl wait refuses a CRD whose status has no conditions yet.
		for {
			_, err := c.Kubectl(ctx, "wait", "--for=condition=Established", "--timeout=60s", "crd/applications.argoproj.io")
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return err
			case <-time.After(200 * time.Millisecond):
			}
		}
		cluster = c
		return nil
	}))
}

type live struct {
	kube  kubernetes.Interface
	dyn   dynamic.Interface
	clock *clocktesting.FakeClock
	ns    string
}

var (
	monNight = time.Date(2026, 1, 5, 21, 0, 0, 0, time.UTC)
	tueDay   = time.Date(2026, 1, 6, 9, 0, 0, 0, time.UTC)
)

func newLive(t *testing.T, ns string) *live {
	t.Helper()
	c := testcluster.Require(t, cluster)
	kube, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	l := &live{kube: kube, dyn: dyn, clock: clocktesting.NewFakeClock(monNight), ns: ns}
	if _, err := kube.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *live) runner(cfg engine.Config) *downscale.Runner {
	if cfg.Schedules == nil {
		cfg.Schedules = []engine.Rule{{Name: "nights", Schedule: "Mon-Fri 20:00-08:00 UTC", Namespaces: []string{l.ns}}}
	}
	return downscale.NewRunner(l.kube, l.dyn, downscale.Options{Config: cfg, Clock: l.clock, Namespaces: []string{l.ns}})
}

func podTemplate(app string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example/app:1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: mustQty("100m")}}}}}}
}

func (l *live) deployment(t *testing.T, name string, replicas int32, edit func(*appsv1.Deployment)) {
	t.Helper()
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: l.ns}, Spec: appsv1.DeploymentSpec{
		Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}, Template: podTemplate(name)}}
	if edit != nil {
		edit(d)
	}
	if _, err := l.kube.AppsV1().Deployments(l.ns).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (l *live) getDeployment(t *testing.T, name string) *appsv1.Deployment {
	t.Helper()
	d, err := l.kube.AppsV1().Deployments(l.ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (l *live) replicas(t *testing.T, name string) int32 {
	t.Helper()
	return *l.getDeployment(t, name).Spec.Replicas
}

func done(rep *downscale.Report) []string {
	var out []string
	for _, r := range rep.Records {
		if r.Outcome != downscale.Unchanged {
			out = append(out, fmt.Sprintf("%s %s %s", r.Action, r.Object, r.Outcome))
		}
	}
	return out
}

// TestNightAndMorningLive: the night run scales a dev namespace to zero,
// the annotation arriving in the same update as the scale change; a
// second run does nothing; a change made by hand during the night is
// kept; the morning run restores the exact counts, the database first.
func TestNightAndMorningLive(t *testing.T) {
	t.Parallel()
	l := newLive(t, "dev-night")
	ctx := t.Context()
	l.deployment(t, "web", 3, nil)
	l.deployment(t, "api", 2, func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "DB_HOST", Value: "db.dev-night.svc:5432"}}
	})
	l.deployment(t, "front", 2, nil)
	one := int32(1)
	if _, err := l.kube.AppsV1().StatefulSets(l.ns).Create(ctx, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: l.ns},
		Spec: appsv1.StatefulSetSpec{Replicas: &one, ServiceName: "db", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Template: podTemplate("db")}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	two := int32(2)
	util := int32(70)
	if _, err := l.kube.AutoscalingV2().HorizontalPodAutoscalers(l.ns).Create(ctx, &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "front", Namespace: l.ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: &two, MaxReplicas: 5,
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "front"},
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &util}}}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.kube.BatchV1().CronJobs(l.ns).Create(ctx, &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "report", Namespace: l.ns},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyOnFailure, Containers: []corev1.Container{{Name: "c", Image: "example/report:1"}}}}}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Every write to web is seen: none may carry the annotation without
	// the scale change, or the scale change without the annotation.
	w, err := l.kube.AppsV1().Deployments(l.ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=web", ResourceVersion: l.getDeployment(t, "web").ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	r := l.runner(engine.Config{})
	_, rep, err := r.Run(ctx)
	if err != nil {
		t.Fatalf("night run: %v", err)
	}
	// The database stops last.
	want := []string{"sleep Deployment/dev-night/api done", "sleep Deployment/dev-night/front done", "sleep Deployment/dev-night/web done",
		"sleep CronJob/dev-night/report done", "sleep StatefulSet/dev-night/db done"}
	if got := done(rep); !slices.Equal(got, want) {
		t.Errorf("night run did %q, want %q", got, want)
	}
	for name, orig := range map[string]string{"web": "3", "api": "2", "front": "2"} {
		d := l.getDeployment(t, name)
		if *d.Spec.Replicas != 0 || d.Annotations[engine.AnnoOriginalReplicas] != orig || d.Annotations[engine.AnnoSince] != "2026-01-05T21:00:00Z" {
			t.Errorf("%s asleep: replicas %d, annotations %v", name, *d.Spec.Replicas, d.Annotations)
		}
	}
	seenSleep := false
	for timeout := time.After(5 * time.Second); !seenSleep; {
		select {
		case ev := <-w.ResultChan():
			if ev.Type != watch.Modified {
				continue
			}
			d := ev.Object.(*appsv1.Deployment)
			_, marked := d.Annotations[engine.AnnoOriginalReplicas]
			if zero := *d.Spec.Replicas == 0; zero != marked {
				t.Fatalf("web written with replicas %d and annotation present=%v: the two must arrive in one update", *d.Spec.Replicas, marked)
			}
			seenSleep = marked
		case <-timeout:
			t.Fatal("no write of web seen")
		}
	}
	st, _ := l.kube.AppsV1().StatefulSets(l.ns).Get(ctx, "db", metav1.GetOptions{})
	cj, _ := l.kube.BatchV1().CronJobs(l.ns).Get(ctx, "report", metav1.GetOptions{})
	if *st.Spec.Replicas != 0 || st.Annotations[engine.AnnoOriginalReplicas] != "1" {
		t.Errorf("db asleep: replicas %d, annotations %v", *st.Spec.Replicas, st.Annotations)
	}
	if cj.Spec.Suspend == nil || !*cj.Spec.Suspend || cj.Annotations[engine.AnnoOriginalSuspend] != "false" {
		t.Errorf("report asleep: suspend %v, annotations %v", cj.Spec.Suspend, cj.Annotations)
	}
	// The real controller-manager stops autoscaling a target at zero
	// replicas: the HPA says ScalingDisabled and does not scale it up.
	waitHPA(t, l, "front", "ScalingDisabled")

	// Idempotent: a second run changes nothing.
	rv := l.getDeployment(t, "web").ResourceVersion
	if _, rep, err = r.Run(ctx); err != nil || len(done(rep)) != 0 {
		t.Errorf("second night run did %q (%v), want nothing", done(rep), err)
	}
	if l.getDeployment(t, "web").ResourceVersion != rv {
		t.Error("the second run wrote web again")
	}

	// Someone needs web at night: one replica by hand.
	web := l.getDeployment(t, "web")
	web.Spec.Replicas = &one
	if _, err := l.kube.AppsV1().Deployments(l.ns).Update(ctx, web, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	l.clock.SetTime(tueDay)
	if _, rep, err = r.Run(ctx); err != nil {
		t.Fatalf("morning run: %v", err)
	}
	// The database starts first.
	want = []string{"wake StatefulSet/dev-night/db done", "wake Deployment/dev-night/api done", "wake Deployment/dev-night/front done",
		"wake Deployment/dev-night/web manual-change-kept", "wake CronJob/dev-night/report done"}
	if got := done(rep); !slices.Equal(got, want) {
		t.Errorf("morning run did %q, want %q", got, want)
	}
	for name, n := range map[string]int32{"web": 1, "api": 2, "front": 2} {
		d := l.getDeployment(t, name)
		if *d.Spec.Replicas != n || hasDownscaleAnnotations(d.Annotations) {
			t.Errorf("%s awake: replicas %d (want %d), annotations %v", name, *d.Spec.Replicas, n, d.Annotations)
		}
	}
	st, _ = l.kube.AppsV1().StatefulSets(l.ns).Get(ctx, "db", metav1.GetOptions{})
	cj, _ = l.kube.BatchV1().CronJobs(l.ns).Get(ctx, "report", metav1.GetOptions{})
	if *st.Spec.Replicas != 1 || hasDownscaleAnnotations(st.Annotations) || *cj.Spec.Suspend || hasDownscaleAnnotations(cj.Annotations) {
		t.Errorf("db and report awake: replicas %d, suspend %v, annotations %v %v", *st.Spec.Replicas, *cj.Spec.Suspend, st.Annotations, cj.Annotations)
	}
	if _, rep, err = r.Run(ctx); err != nil || len(done(rep)) != 0 {
		t.Errorf("second morning run did %q (%v), want nothing", done(rep), err)
	}
}

func hasDownscaleAnnotations(a map[string]string) bool {
	for k := range a {
		if strings.HasPrefix(k, "purser.dev/downscale-") {
			return true
		}
	}
	return false
}

func waitHPA(t *testing.T, l *live, name, reason string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		h, err := l.kube.AutoscalingV2().HorizontalPodAutoscalers(l.ns).Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range h.Status.Conditions {
			if c.Type == autoscalingv2.ScalingActive && c.Reason == reason {
				if c.Status != corev1.ConditionFalse {
					t.Errorf("HPA %s: ScalingActive %s with reason %s", name, c.Status, reason)
				}
				if n := l.replicas(t, name); n != 0 {
					t.Errorf("HPA %s disabled but its target has %d replicas", name, n)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("HPA %s never reported %s: conditions %+v", name, reason, h.Status.Conditions)
		}
		time.Sleep(time.Second)
	}
}

// TestWakeForLive: wake --for 2h wakes a sleeping namespace now, and the
// first run after the two hours puts it back to sleep by itself.
func TestWakeForLive(t *testing.T) {
	t.Parallel()
	l := newLive(t, "dev-wake")
	ctx := t.Context()
	l.deployment(t, "web", 3, nil)
	r := l.runner(engine.Config{})
	if _, _, err := r.Run(ctx); err != nil || l.replicas(t, "web") != 0 {
		t.Fatalf("night run: %v, replicas %d", err, l.replicas(t, "web"))
	}
	until, _, _, err := r.WakeFor(ctx, l.ns, 2*time.Hour, "wake --for 2h by alice")
	if err != nil {
		t.Fatal(err)
	}
	if !until.Equal(monNight.Add(2*time.Hour)) || l.replicas(t, "web") != 3 {
		t.Fatalf("woken until %s with %d replicas, want %s with 3", until, l.replicas(t, "web"), monNight.Add(2*time.Hour))
	}
	l.clock.SetTime(monNight.Add(2*time.Hour - time.Minute))
	if _, _, err := r.Run(ctx); err != nil || l.replicas(t, "web") != 3 {
		t.Fatalf("run before the two hours: %v, replicas %d, want 3", err, l.replicas(t, "web"))
	}
	l.clock.SetTime(monNight.Add(2 * time.Hour))
	if _, _, err := r.Run(ctx); err != nil || l.replicas(t, "web") != 0 {
		t.Fatalf("run after the two hours: %v, replicas %d, want 0", err, l.replicas(t, "web"))
	}
	if got := l.getDeployment(t, "web").Annotations[engine.AnnoOriginalReplicas]; got != "3" {
		t.Errorf("original replicas recorded %q, want 3", got)
	}
}

// TestSleepWakeAPILive: the budget engine's calls. A requested sleep is
// idempotent, outlives the scheduled morning run, and Wake restores it.
func TestSleepWakeAPILive(t *testing.T) {
	t.Parallel()
	l := newLive(t, "dev-budget")
	ctx := t.Context()
	l.deployment(t, "web", 3, nil)
	l.clock.SetTime(tueDay)
	r := l.runner(engine.Config{})
	for range 2 {
		if err := r.Sleep(ctx, []string{l.ns}, "budget team-a at 100%"); err != nil {
			t.Fatal(err)
		}
	}
	d := l.getDeployment(t, "web")
	if *d.Spec.Replicas != 0 || d.Annotations[engine.AnnoOriginalReplicas] != "3" || d.Annotations[engine.AnnoBy] != engine.ByRequest ||
		d.Annotations[engine.AnnoReason] != "budget team-a at 100%" {
		t.Fatalf("after Sleep: replicas %d, annotations %v", *d.Spec.Replicas, d.Annotations)
	}
	if _, _, err := r.Run(ctx); err != nil || l.replicas(t, "web") != 0 {
		t.Fatalf("the scheduled day run woke a requested sleep: %v, replicas %d", err, l.replicas(t, "web"))
	}
	if err := r.Wake(ctx, []string{l.ns}, "budget recovered"); err != nil || l.replicas(t, "web") != 3 {
		t.Fatalf("Wake: %v, replicas %d", err, l.replicas(t, "web"))
	}
}

// TestMalformedAnnotationLive: a schedule annotation that does not parse
// is an error naming its Deployment; that Deployment is untouched and
// the others sleep.
func TestMalformedAnnotationLive(t *testing.T) {
	t.Parallel()
	l := newLive(t, "dev-bad")
	ctx := t.Context()
	l.deployment(t, "good", 2, nil)
	l.deployment(t, "bad", 2, func(d *appsv1.Deployment) {
		d.Annotations = map[string]string{engine.AnnoSchedule: "Mon-Fry 20:00-08:00 UTC"}
	})
	gen := l.getDeployment(t, "bad").Generation
	_, _, err := l.runner(engine.Config{}).Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "Deployment/dev-bad/bad: annotation purser.dev/downscale-schedule") {
		t.Errorf("run error %v, want one naming Deployment/dev-bad/bad and its annotation", err)
	}
	if l.replicas(t, "good") != 0 {
		t.Error("the well-formed Deployment did not sleep")
	}
	if d := l.getDeployment(t, "bad"); d.Generation != gen || *d.Spec.Replicas != 2 || d.Annotations[engine.AnnoOriginalReplicas] != "" {
		t.Errorf("the malformed one was changed: replicas %d, generation %d (was %d), annotations %v", *d.Spec.Replicas, d.Generation, gen, d.Annotations)
	}
}

// TestArgoCDLive: a Deployment of an Argo CD Application with self-heal
// is skipped with the reason by default; with gitops: pause its
// Application's automated sync is removed for the night, recorded on it,
// and restored in the morning.
func TestArgoCDLive(t *testing.T) {
	t.Parallel()
	l := newLive(t, "dev-argo")
	ctx := t.Context()
	if _, err := l.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "argocd-dev-argo"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	automated := map[string]any{"prune": true, "selfHeal": true}
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "shop", "namespace": "argocd-dev-argo"},
		"spec": map[string]any{
			"project":     "default",
			"source":      map[string]any{"repoURL": "https://git.example.com/shop.git", "path": "deploy", "targetRevision": "main"},
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": l.ns},
			"syncPolicy":  map[string]any{"automated": automated},
		},
	}}
	apps := l.dyn.Resource(schemaApplications).Namespace("argocd-dev-argo")
	if _, err := apps.Create(ctx, app, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	l.deployment(t, "shop", 3, func(d *appsv1.Deployment) { d.Labels = map[string]string{"app.kubernetes.io/instance": "shop"} })

	plan, _, err := l.runner(engine.Config{}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l.replicas(t, "shop") != 3 || len(plan.Decisions) != 1 || plan.Decisions[0].Action != engine.Keep ||
		!strings.Contains(plan.Decisions[0].Reason, "managed by Application/argocd-dev-argo/shop with self-heal") {
		t.Fatalf("gitops: skip: replicas %d, decisions %+v", l.replicas(t, "shop"), plan.Decisions)
	}

	r := l.runner(engine.Config{GitOps: engine.GitOpsPause})
	if _, rep, err := r.Run(ctx); err != nil || l.replicas(t, "shop") != 0 {
		t.Fatalf("gitops: pause: %v, replicas %d, records %+v", err, l.replicas(t, "shop"), rep)
	}
	got, _ := apps.Get(ctx, "shop", metav1.GetOptions{})
	if _, found, _ := unstructured.NestedFieldNoCopy(got.Object, "spec", "syncPolicy", "automated"); found {
		t.Error("the Application still syncs automatically during the night")
	}
	var recorded map[string]any
	if err := json.Unmarshal([]byte(got.GetAnnotations()[engine.AnnoOriginalAutomated]), &recorded); err != nil || recorded["selfHeal"] != true || recorded["prune"] != true {
		t.Errorf("recorded automated sync %q", got.GetAnnotations()[engine.AnnoOriginalAutomated])
	}
	l.clock.SetTime(tueDay)
	if _, _, err := r.Run(ctx); err != nil || l.replicas(t, "shop") != 3 {
		t.Fatalf("morning: %v, replicas %d", err, l.replicas(t, "shop"))
	}
	got, _ = apps.Get(ctx, "shop", metav1.GetOptions{})
	back, _, _ := unstructured.NestedMap(got.Object, "spec", "syncPolicy", "automated")
	if back["selfHeal"] != true || back["prune"] != true || got.GetAnnotations()[engine.AnnoOriginalAutomated] != "" {
		t.Errorf("morning Application: automated %v, annotations %v", back, got.GetAnnotations())
	}
}

// TestHPAMinReplicasLive: with a downtime of one replica, a Deployment an
// HPA scales keeps its replicas and the HPA's minReplicas is lowered to
// one for the night, recorded on the HPA in the same update, and put back
// in the morning.
func TestHPAMinReplicasLive(t *testing.T) {
	t.Parallel()
	l := newLive(t, "dev-hpa")
	ctx := t.Context()
	l.deployment(t, "front", 3, nil)
	three := int32(3)
	hpas := l.kube.AutoscalingV2().HorizontalPodAutoscalers(l.ns)
	if _, err := hpas.Create(ctx, &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "front", Namespace: l.ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: &three, MaxReplicas: 6,
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "front"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := l.runner(engine.Config{DowntimeReplicas: 1})
	if _, _, err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	h, _ := hpas.Get(ctx, "front", metav1.GetOptions{})
	if *h.Spec.MinReplicas != 1 || h.Annotations[engine.AnnoOriginalMinReplicas] != "3" {
		t.Errorf("night HPA: minReplicas %d, annotations %v", *h.Spec.MinReplicas, h.Annotations)
	}
	if d := l.getDeployment(t, "front"); d.Annotations[engine.AnnoOriginalReplicas] != "" {
		t.Errorf("the Deployment was marked too: %v", d.Annotations)
	}
	l.clock.SetTime(tueDay)
	if _, _, err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	h, _ = hpas.Get(ctx, "front", metav1.GetOptions{})
	if *h.Spec.MinReplicas != 3 || hasDownscaleAnnotations(h.Annotations) {
		t.Errorf("morning HPA: minReplicas %d, annotations %v", *h.Spec.MinReplicas, h.Annotations)
	}
}
