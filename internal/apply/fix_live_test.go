package apply_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/apply"
	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot/live"
	"github.com/purserhq/purser/internal/testcluster"
)

var servicesGVR = schema.GroupVersionResource{Version: "v1", Resource: "services"}

// fixRun is what the steps of TestFixLive share.
type fixRun struct {
	*liveRun
	dyn dynamic.Interface
}

// services returns every Service of the cluster, normalized, by
// namespace/name, and their resourceVersions.
func (f *fixRun) services(t *testing.T) (map[string]map[string]any, map[string]string) {
	t.Helper()
	list, err := f.dyn.Resource(servicesGVR).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	norm, rv := map[string]map[string]any{}, map[string]string{}
	for i := range list.Items {
		u := &list.Items[i]
		k := u.GetNamespace() + "/" + u.GetName()
		norm[k], rv[k] = apply.Normalized(u), u.GetResourceVersion()
	}
	return norm, rv
}

// withoutEndpoints audits the live cluster with service-no-endpoints and
// returns the Services it reports.
func (f *fixRun) withoutEndpoints(t *testing.T) []string {
	t.Helper()
	ctx := t.Context()
	cfg, err := config.Parse(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	s, err := live.Collect(ctx, f.c.Config, live.CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := action.NewEnvFor(ctx, s, cfg, action.PriceOptions{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := action.Audit{Checks: []string{"service-no-endpoints"}}.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fd := range res.Findings {
		out = append(out, fd.Object.Namespace+"/"+fd.Object.Name)
	}
	slices.Sort(out)
	return out
}

// fixPlan runs purser fix with args and returns the plan file and hash.
func (f *fixRun) fixPlan(t *testing.T, args ...string) (string, *plan.Plan) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fix.yaml")
	out, stderr, err := f.purser(t, append([]string{"fix", "--plan-file", path}, args...)...)
	if err != nil {
		t.Fatalf("purser fix: %v\n%s%s", err, out, stderr)
	}
	return path, readPlan(t, path)
}

// TestFixLive carries out `purser fix` plans on the live BlueOcean: the
// Services without endpoints get their selectors fixed through apply, with
// a journal and a backup, and rollback gives them back exactly; a dry run
// changes nothing, a stale plan is refused naming the object, and an
// unused ConfigMap deleted by a fix comes back with rollback.
func TestFixLive(t *testing.T) {
	// It changes Services and objects of namespaces no other parallel
	// test reads; the tests that compare every namespace run before.
	t.Parallel()
	c := testcluster.Require(t, cluster)
	kube, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixRun{liveRun: &liveRun{c: c, kube: kube, dir: t.TempDir()}, dyn: dyn}
	before := f.withoutEndpoints(t)
	if len(before) < 2 || !slices.Contains(before, "onlyoneapi-prod/public-api") {
		t.Fatalf("before the fix, Services without endpoints: %v", before)
	}

	t.Run("a stale plan is refused naming the object", func(t *testing.T) {
		path, p := f.fixPlan(t, "--checks", "service-no-endpoints")
		target := p.Spec.Fixes[0].Target
		label := func(value any) {
			patch := fmt.Sprintf(`{"metadata":{"labels":{"purser-test/stale":%s}}}`, value)
			if _, err := kube.CoreV1().Services(target.Namespace).Patch(t.Context(), target.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		label(`"yes"`)
		defer label("null")
		_, rv := f.services(t)
		_, stderr, err := f.purser(t, "apply", path, "--approve", p.Metadata.ContentHash, "--backup-dir", filepath.Join(t.TempDir(), "run"))
		want := fmt.Sprintf("Service %s/%s: changed since the plan was built", target.Namespace, target.Name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("a stale fix plan: %v, want it refused with %q\n%s", err, want, stderr)
		}
		if _, after := f.services(t); !reflect.DeepEqual(rv, after) {
			t.Error("a refused plan changed Services")
		}
	})

	path, p := f.fixPlan(t, "--checks", "service-no-endpoints")
	hash := p.Metadata.ContentHash
	if len(p.Spec.Fixes) != len(before)-1 || len(p.Spec.Manual) != 1 || p.Spec.Manual[0].Object.Name != "public-api" {
		t.Fatalf("fix plan: %d fixes, manual %+v; Services without endpoints %v", len(p.Spec.Fixes), p.Spec.Manual, before)
	}
	if out, _, err := f.purser(t, "plan", "show", path); err != nil || !strings.Contains(out, "public-api") || !strings.Contains(out, hash) {
		t.Errorf("plan show: %v\n%s", err, out)
	}
	normBefore, rvBefore := f.services(t)

	t.Run("dry run changes nothing", func(t *testing.T) {
		out, stderr, err := f.purser(t, "apply", path, "-o", "json")
		if err != nil {
			t.Fatalf("dry run: %v\n%s", err, stderr)
		}
		if n := statuses(t, out); n[apply.StatusDryRun] != len(p.Spec.Fixes) {
			t.Errorf("dry run: %v, want %d dry-run", n, len(p.Spec.Fixes))
		}
		if _, rv := f.services(t); !reflect.DeepEqual(rv, rvBefore) {
			t.Error("the dry run changed Services")
		}
	})

	dir := filepath.Join(t.TempDir(), "run")
	out, stderr, err := f.purser(t, "apply", path, "--approve", hash, "--backup-dir", dir, "-o", "json")
	if err != nil {
		t.Fatalf("apply: %v\n%s%s", err, out, stderr)
	}
	if n := statuses(t, out); n[apply.StatusDone] != len(p.Spec.Fixes) {
		t.Errorf("apply: %v, want %d done", n, len(p.Spec.Fixes))
	}
	f.checkFiles(t, dir)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		left := f.withoutEndpoints(t)
		if slices.Equal(left, []string{"onlyoneapi-prod/public-api"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the fix, Services without endpoints: %v, want only public-api", left)
		}
		time.Sleep(2 * time.Second)
	}

	journal := filepath.Join(dir, apply.JournalFile)
	if out, stderr, err := f.purser(t, "rollback", journal, "--approve", hash, "-o", "json"); err != nil {
		t.Fatalf("rollback: %v\n%s%s", err, out, stderr)
	} else if n := statuses(t, out); n[apply.StatusRestored] != len(p.Spec.Fixes) {
		t.Errorf("rollback: %v, want %d restored", n, len(p.Spec.Fixes))
	}
	normAfter, _ := f.services(t)
	for k, b := range normBefore {
		if a := normAfter[k]; !reflect.DeepEqual(a, b) {
			ay, _ := yaml.Marshal(a)
			by, _ := yaml.Marshal(b)
			t.Errorf("Service %s after rollback:\n%s\nbefore:\n%s", k, ay, by)
		}
	}
	if len(normAfter) != len(normBefore) {
		t.Errorf("%d Services after rollback, %d before", len(normAfter), len(normBefore))
	}

	t.Run("stopped after a patch, resumed, rolled back", func(t *testing.T) {
		path, p := f.fixPlan(t, "--checks", "service-no-endpoints")
		hash, n := p.Metadata.ContentHash, len(p.Spec.Fixes)
		dir := filepath.Join(t.TempDir(), "run")
		stop := errors.New("stopped between two steps")
		_, err := apply.Apply(t.Context(), c.Config, apply.Options{Plan: p, Approve: hash, Dir: dir,
			BeforeStep: func(_ context.Context, s apply.Step) error {
				if s.Index == 2 {
					return stop
				}
				return nil
			}})
		if !errors.Is(err, stop) {
			t.Fatalf("the stopped run: %v", err)
		}
		journal := filepath.Join(dir, apply.JournalFile)
		rep, err := apply.Apply(t.Context(), c.Config, apply.Options{Plan: p, Approve: hash, Resume: journal})
		if err != nil {
			t.Fatalf("resume of %s: %v", path, err)
		}
		got := map[apply.Status]int{}
		for _, s := range rep.Steps {
			got[s.Status]++
		}
		if got[apply.StatusDoneBefore] != 1 || got[apply.StatusDone] != n-1 {
			t.Errorf("resumed run: %v, want 1 done before and %d done", got, n-1)
		}
		if out, stderr, err := f.purser(t, "rollback", journal, "--approve", hash); err != nil {
			t.Fatalf("rollback: %v\n%s%s", err, out, stderr)
		}
		if after, _ := f.services(t); !reflect.DeepEqual(after, normBefore) {
			t.Error("the Services are not as they were after the rollback of a resumed run")
		}
	})
	t.Run("an unused ConfigMap deleted and restored", func(t *testing.T) { f.unusedConfigMap(t) })
	t.Run("a NetworkPolicy baseline created and removed", func(t *testing.T) { f.networkPolicyBaseline(t) })
	t.Run("a workload scaled to 0 behind a Service scaled up and back", func(t *testing.T) { f.scaleUp(t) })
}

// scaleUp scales a Deployment that a Service fronts from 0 to 1 with the
// fix of workload-scaled-to-zero, under its resourceVersion; the Service
// then has a ready endpoint, and rollback gives the Deployment back with
// 0 replicas, as it was.
func (f *fixRun) scaleUp(t *testing.T) {
	ctx := t.Context()
	const ns, name = "purser-fix-scale", "parked-api"
	// The pod template of a demo workload that runs on the fake nodes.
	model, err := f.kube.AppsV1().Deployments("umami").Get(ctx, "umami", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.deleteNamespace(t, ns) })
	sel := map[string]string{"app": name}
	tpl := *model.Spec.Template.DeepCopy()
	tpl.Labels = sel
	zero := int32(0)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: &zero, Selector: &metav1.LabelSelector{MatchLabels: sel}, Template: tpl}}
	if _, err := f.kube.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	port := model.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{Selector: sel, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(port)}}}}
	if _, err := f.kube.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The deployment controller annotates the revision soon after the
	// creation: the state to restore is the one after that.
	var before *unstructured.Unstructured
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		before = f.object(t, appsv1.SchemeGroupVersion.WithResource("deployments"), ns, name)
		if before.GetAnnotations()["deployment.kubernetes.io/revision"] != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the deployment controller did not annotate the new Deployment's revision")
		}
	}

	path, p := f.fixPlan(t, "--checks", "workload-scaled-to-zero", "-n", ns)
	if len(p.Spec.Fixes) != 1 || p.Spec.Fixes[0].Action != plan.FixPatch || p.Spec.Fixes[0].Patch != `{"spec":{"replicas":1}}` ||
		len(p.Spec.Preconditions) != 1 || p.Spec.Preconditions[0].UID != string(before.GetUID()) || p.Spec.Preconditions[0].ResourceVersion == "" {
		t.Fatalf("fix plan: fixes %+v, manual %+v, preconditions %+v", p.Spec.Fixes, p.Spec.Manual, p.Spec.Preconditions)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if out, stderr, err := f.purser(t, "apply", path, "--approve", p.Metadata.ContentHash, "--backup-dir", dir); err != nil {
		t.Fatalf("apply: %v\n%s%s", err, out, stderr)
	}
	f.checkFiles(t, dir)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, err := f.kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ready := 0
		eps, err := f.kube.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + name})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range eps.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready {
					ready++
				}
			}
		}
		if *got.Spec.Replicas == 1 && got.Status.AvailableReplicas == 1 && ready == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the fix: replicas %d, %d available, the Service has %d ready endpoints; want 1, 1, 1",
				*got.Spec.Replicas, got.Status.AvailableReplicas, ready)
		}
		time.Sleep(time.Second)
	}
	if out, stderr, err := f.purser(t, "rollback", filepath.Join(dir, apply.JournalFile), "--approve", p.Metadata.ContentHash); err != nil {
		t.Fatalf("rollback: %v\n%s%s", err, out, stderr)
	}
	after := f.object(t, appsv1.SchemeGroupVersion.WithResource("deployments"), ns, name)
	if a, b := apply.Normalized(after), apply.Normalized(before); !reflect.DeepEqual(a, b) {
		ay, _ := yaml.Marshal(a)
		by, _ := yaml.Marshal(b)
		t.Errorf("the Deployment after rollback:\n%s\nbefore:\n%s", ay, by)
	}
}

// object reads one object through the dynamic client.
func (f *fixRun) object(t *testing.T, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := f.dyn.Resource(gvr).Namespace(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// deleteNamespace deletes a namespace a test made and waits until it is
// gone, so that the tests after it find the cluster as BlueOcean left it.
func (f *fixRun) deleteNamespace(t *testing.T, ns string) {
	ctx := context.Background()
	if err := f.kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Error(err)
		return
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		if _, err := f.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return
		}
	}
	t.Errorf("namespace %s is still there two minutes after its deletion", ns)
}

// networkPolicyBaseline creates a namespace's baseline NetworkPolicy with a
// fix plan, labelled with the run's operation, and removes it with
// rollback.
func (f *fixRun) networkPolicyBaseline(t *testing.T) {
	ctx := t.Context()
	const ns = "directus"
	path, p := f.fixPlan(t, "--checks", "namespace-no-networkpolicy", "-n", ns)
	if len(p.Spec.Fixes) != 1 || p.Spec.Fixes[0].Action != plan.FixCreate || len(p.Spec.Fixes[0].Manifests) != 1 {
		t.Fatalf("fix plan: %+v", p.Spec.Fixes)
	}
	name := p.Spec.Fixes[0].Manifests[0].GetName()
	dir := filepath.Join(t.TempDir(), "run")
	out, stderr, err := f.purser(t, "apply", path, "--approve", p.Metadata.ContentHash, "--backup-dir", dir, "-o", "json")
	if err != nil {
		t.Fatalf("apply: %v\n%s%s", err, out, stderr)
	}
	var rep apply.Report
	if err := yaml.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	np, err := f.kube.NetworkingV1().NetworkPolicies(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the baseline was not created: %v", err)
	}
	if np.Labels[apply.OperationLabel] != rep.Operation {
		t.Errorf("the baseline is labelled %q, want the run's operation %q", np.Labels[apply.OperationLabel], rep.Operation)
	}
	if out, stderr, err := f.purser(t, "rollback", filepath.Join(dir, apply.JournalFile), "--approve", p.Metadata.ContentHash); err != nil {
		t.Fatalf("rollback: %v\n%s%s", err, out, stderr)
	}
	if _, err := f.kube.NetworkingV1().NetworkPolicies(ns).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the baseline is still there after rollback: %v", err)
	}
}

// unusedConfigMap creates a ConfigMap nothing uses, deletes it with a fix
// plan and gets it back with rollback.
func (f *fixRun) unusedConfigMap(t *testing.T) {
	ctx := t.Context()
	const ns, name = "monitoring", "purser-fix-leftover"
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"team": "ops"}},
		Data: map[string]string{"settings.ini": "level = 3\n"}, BinaryData: map[string][]byte{"blob": {0, 1, 2}}}
	created, err := f.kube.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		err := f.kube.CoreV1().ConfigMaps(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Error(err)
		}
	})
	path, p := f.fixPlan(t, "--checks", "configmap-unused", "-n", ns, "configmap/"+name)
	if len(p.Spec.Fixes) != 1 || p.Spec.Fixes[0].Action != plan.FixDelete || len(p.Spec.Preconditions) != 1 ||
		p.Spec.Preconditions[0].UID != string(created.UID) {
		t.Fatalf("fix plan: %+v, preconditions %+v", p.Spec.Fixes, p.Spec.Preconditions)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if out, stderr, err := f.purser(t, "apply", path, "--approve", p.Metadata.ContentHash, "--backup-dir", dir); err != nil {
		t.Fatalf("apply: %v\n%s%s", err, out, stderr)
	}
	if _, err := f.kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the ConfigMap is still there after the fix: %v", err)
	}
	backup, err := os.ReadFile(filepath.Join(dir, apply.BackupFile))
	if err != nil || !strings.Contains(string(backup), name) {
		t.Fatalf("the backup does not hold the ConfigMap: %v", err)
	}
	f.checkFiles(t, dir)
	if out, stderr, err := f.purser(t, "rollback", filepath.Join(dir, apply.JournalFile), "--approve", p.Metadata.ContentHash); err != nil {
		t.Fatalf("rollback: %v\n%s%s", err, out, stderr)
	}
	back, err := f.kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the ConfigMap is not back: %v", err)
	}
	if !reflect.DeepEqual(back.Data, cm.Data) || !reflect.DeepEqual(back.BinaryData, cm.BinaryData) || !reflect.DeepEqual(back.Labels, cm.Labels) {
		t.Errorf("restored ConfigMap: data %v binary %v labels %v; want %v %v %v", back.Data, back.BinaryData, back.Labels, cm.Data, cm.BinaryData, cm.Labels)
	}
}
