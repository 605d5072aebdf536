package apply_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/purserhq/purser/internal/apply"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/testcluster"
)

// markerAnnotation is written on every volume before the plan is built:
// the data a handed-over volume must still carry.
const markerAnnotation = "purser-test/data-marker"

// TestApplyProductPlanLive carries BlueOcean's product plan (Phase 1:
// kvibes 8 → 2, nextstep, and the rest) out on the live cluster: refusals
// first (Secrets, references and Helm releases), a dry run that changes
// nothing, an approved run stopped in the middle of handing a volume
// over and resumed, the checks of the moved state, then a rollback that
// gives back the original objects exactly.
func TestApplyProductPlanLive(t *testing.T) {
	c := testcluster.Require(t, cluster)
	ctx := t.Context()
	kube, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	l := &liveRun{c: c, kube: kube, dir: t.TempDir()}
	l.config = filepath.Join(l.dir, "purser.yaml")
	if err := os.WriteFile(l.config, scenario.DemoConfigYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, o := range scenario.BlueOcean().Objects {
		if s, ok := o.Object.(*corev1.Secret); ok {
			for _, v := range s.Data {
				l.secrets = append(l.secrets, string(v))
			}
		}
	}
	l.unavailableBefore(t)
	l.productPolicy(t)
	pvs, err := kube.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pv := range pvs.Items {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, markerAnnotation, "written before the move to "+pv.Name)
		if _, err := kube.CoreV1().PersistentVolumes().Patch(ctx, pv.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	path := filepath.Join(l.dir, "product.yaml")
	if _, stderr, err := l.purser(t, "plan", "--strategy", "product", "--config", l.config, "--plan-file", path); err != nil {
		t.Fatalf("purser plan: %v\n%s", err, stderr)
	}
	p := readPlan(t, path)
	hash := p.Metadata.ContentHash
	touched := planObjects(p)
	before := l.objects(t, dyn, touched)
	reachBefore := l.reachBefore(t, p)
	if len(before) != len(touched) || len(touched) < 100 {
		t.Fatalf("read %d of the %d objects the plan moves or hands over", len(before), len(touched))
	}
	nsBefore := l.namespaces(t)
	var confirm []string
	for _, pre := range p.Spec.Preconditions {
		if pre.Action == plan.ActionDelete {
			confirm = append(confirm, "--confirm-namespace", pre.Name)
		}
	}

	t.Run("refused without secrets, references or Helm accepted", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "op")
		_, _, err := l.purser(t, append([]string{"apply", path, "--approve", hash, "--backup-dir", dir}, confirm...)...)
		for _, want := range []string{"Secret postgres-central/", "--include-secret-values", "--accept-reference", "platform/pgbouncer",
			"Helm release", "helm upgrade --install", "meta.helm.sh/release-namespace=monitoring", "nothing was changed"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("the refusal does not say %q: %v", want, err)
			}
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("a refused run wrote %s", dir)
		}
		unchanged(t, nsBefore, l.namespaces(t))
	})

	t.Run("dry run changes nothing", func(t *testing.T) {
		out, stderr, err := l.purser(t, "apply", path, "-o", "json")
		if err != nil {
			t.Fatalf("dry run: %v\n%s", err, stderr)
		}
		var rep apply.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		for _, s := range rep.Steps {
			if s.Status != apply.StatusDryRun {
				t.Errorf("step %d %s %s: %s %s", s.Index, s.Change, s.Object, s.Status, s.Message)
			}
		}
		if !strings.Contains(stderr, "blocks an approved run") {
			t.Errorf("the dry run does not warn of what blocks an approved run:\n%s", stderr)
		}
		unchanged(t, nsBefore, l.namespaces(t))
		sameObjects(t, before, l.objects(t, dyn, touched))
	})

	t.Run("stopped while a claim is deleted, rolled back", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "op")
		journal := filepath.Join(dir, apply.JournalFile)
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		_, err := apply.Apply(rctx, c.Config, apply.Options{Plan: p, Approve: hash, Confirmed: confirmNames(confirm), Dir: dir,
			IncludeSecretValues: true, AcceptReference: true, AcceptHelm: true,
			AtStage: func(_ context.Context, s apply.Step, stage string) error {
				if stage == "claim-deleted" {
					cancel()
				}
				return nil
			}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the run was not stopped in the middle of a rebind: %v", err)
		}
		mid := l.namespaces(t)
		out, stderr, err := l.purser(t, "rollback", journal, "-o", "json")
		if err != nil {
			t.Fatalf("rollback dry run: %v\n%s\n%s", err, out, stderr)
		}
		if n := statuses(t, out); n[apply.StatusDryRun] == 0 || n[apply.StatusBlocked]+n[apply.StatusFailed]+n[apply.StatusPending] > 0 {
			t.Errorf("rollback dry run: %v", n)
		}
		unchanged(t, mid, l.namespaces(t))
		start := time.Now()
		if out, stderr, err := l.purser(t, "rollback", journal, "--approve", hash); err != nil {
			t.Fatalf("rollback: %v\n%s\n%s", err, out, stderr)
		}
		t.Logf("rollback of a run stopped in its first rebind: %s", time.Since(start).Round(time.Millisecond))
		sameObjects(t, before, l.objects(t, dyn, touched))
		restoredNS := l.namespaces(t)
		if len(restoredNS) != len(nsBefore) {
			t.Errorf("%d namespaces after the rollback, %d before", len(restoredNS), len(nsBefore))
		}
		l.noVolumeAdrift(t)
	})

	// The rollback recreated the claim it had deleted: the plan is built
	// again from the cluster as it is now.
	if _, stderr, err := l.purser(t, "plan", "--strategy", "product", "--config", l.config, "--plan-file", path); err != nil {
		t.Fatalf("purser plan: %v\n%s", err, stderr)
	}
	p = readPlan(t, path)
	hash = p.Metadata.ContentHash
	dir := filepath.Join(t.TempDir(), "op")
	journal := filepath.Join(dir, apply.JournalFile)
	t.Run("a conflict stops the run naming the other manager", func(t *testing.T) {
		var cm apply.Object
		_, err := apply.Apply(ctx, c.Config, apply.Options{Plan: p, Approve: hash, Confirmed: confirmNames(confirm), Dir: dir,
			IncludeSecretValues: true, AcceptReference: true, AcceptHelm: true,
			BeforeStep: func(ctx context.Context, s apply.Step) error {
				m := manifestOf(p, s.Object)
				if cm.Name != "" || s.Change != apply.ChangeCreate || m == nil {
					return nil
				}
				data, _, _ := unstructured.NestedStringMap(m.Object, "data")
				if len(data) == 0 {
					return nil
				}
				cm = s.Object
				j, err := apply.ReadJournal(journal)
				if err != nil {
					return err
				}
				// Someone else writes the same ConfigMap first, with the
				// run's label (as after a crash) but other values.
				other := m.DeepCopy()
				other.SetLabels(map[string]string{apply.OperationLabel: j.Begin.Operation})
				for k := range data {
					data[k] = "someone else's value"
				}
				if err := unstructured.SetNestedStringMap(other.Object, data, "data"); err != nil {
					return err
				}
				_, err = dyn.Resource(gvr(s.Object)).Namespace(s.Object.Namespace).Apply(ctx, s.Object.Name, other, metav1.ApplyOptions{FieldManager: "someone-else"})
				return err
			}})
		var conflict *apply.ConflictError
		if !errors.As(err, &conflict) || !strings.Contains(err.Error(), "someone-else") || !strings.Contains(err.Error(), cm.String()) {
			t.Fatalf("a conflicting write: %v", err)
		}
		if err := dyn.Resource(gvr(cm)).Namespace(cm.Namespace).Delete(ctx, cm.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("stopped while a volume is handed over, resumed", func(t *testing.T) {
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var stopped *apply.Step
		var logs bytes.Buffer
		start := time.Now()
		rep, err := apply.Apply(rctx, c.Config, apply.Options{Plan: p, Approve: hash, Confirmed: confirmNames(confirm), Resume: journal,
			IncludeSecretValues: true, AcceptReference: true, AcceptHelm: true, Parallel: 8,
			Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			AtStage: func(_ context.Context, s apply.Step, stage string) error {
				if stage == "released" && stopped == nil {
					stopped = &s
					cancel()
				}
				return nil
			}})
		if !errors.Is(err, context.Canceled) || stopped == nil {
			t.Fatalf("the run was not stopped in the middle of a rebind: %v", err)
		}
		t.Logf("stopped in step %d (%s) after %s", stopped.Index, stopped.Object, time.Since(start).Round(time.Millisecond))
		js, _ := json.Marshal(rep)
		l.noSecrets(t, logs.String()+string(js))
		copied := false
		for _, s := range rep.Steps {
			copied = copied || s.Change == apply.ChangeCopySecret && s.Status == apply.StatusDone
		}
		if !copied || !strings.Contains(logs.String(), "copy-secret") {
			t.Errorf("the Secret was not copied before the run stopped, or not logged: %v", copied)
		}
		pv, err := kube.CoreV1().PersistentVolumes().Get(ctx, stopped.Volume.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if pv.Status.Phase != corev1.VolumeReleased || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
			t.Errorf("volume %s when the run stopped: %s, %s; want Released and Retain", pv.Name, pv.Status.Phase, pv.Spec.PersistentVolumeReclaimPolicy)
		}
		start = time.Now()
		out, stderr, err := l.purser(t, append([]string{"apply", path, "--approve", hash, "--resume", journal, "--include-secret-values",
			"--accept-reference", "--accept-helm", "--parallel", "8", "-o", "json"}, confirm...)...)
		if err != nil {
			t.Fatalf("resume: %v\n%s\n%s", err, out, stderr)
		}
		t.Logf("resumed run: %s", time.Since(start).Round(time.Millisecond))
		if n := statuses(t, out); n[apply.StatusDone]+n[apply.StatusDoneBefore] != len(mustSteps(t, p)) {
			t.Errorf("steps of the resumed run: %v", n)
		}
		data, err := os.ReadFile(journal)
		if err != nil {
			t.Fatal(err)
		}
		l.noSecrets(t, string(data))
		fi, err := os.Stat(filepath.Join(dir, apply.BackupFile))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("backup: %v", err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("backup mode %v", fi.Mode().Perm())
		}
		backup, _ := os.ReadFile(filepath.Join(dir, apply.BackupFile))
		if !strings.Contains(string(backup), "kind: Secret") || !strings.Contains(string(backup), "data:") {
			t.Error("the backup does not hold the copied Secret with its values")
		}
	})

	t.Run("the moved state", func(t *testing.T) {
		l.checkMoved(t, dyn, p, before)
	})
	t.Run("the moved NetworkPolicy names the target, the same peers reach the same pods", func(t *testing.T) {
		l.checkPolicyMoved(t, p, reachBefore)
	})

	t.Run("rollback restores the original objects", func(t *testing.T) {
		start := time.Now()
		out, stderr, err := l.purser(t, "rollback", journal, "--approve", hash, "-o", "json")
		if err != nil {
			t.Fatalf("rollback: %v\n%s\n%s", err, out, stderr)
		}
		t.Logf("rollback: %s", time.Since(start).Round(time.Millisecond))
		n := statuses(t, out)
		if n[apply.StatusRestored] < len(touched) || n[apply.StatusBlocked]+n[apply.StatusFailed]+n[apply.StatusPending] > 0 {
			t.Errorf("rollback steps: %v", n)
		}
		sameObjects(t, before, l.objects(t, dyn, touched))
		restoredNS := l.namespaces(t)
		for name := range nsBefore {
			if _, ok := restoredNS[name]; !ok {
				t.Errorf("namespace %s not restored", name)
			}
		}
		for name := range restoredNS {
			if _, ok := nsBefore[name]; !ok {
				t.Errorf("namespace %s, created by the run, is still there", name)
			}
		}
		l.noVolumeAdrift(t)
	})
}

// manifestOf is the plan's manifest of a target object, or nil.
func manifestOf(p *plan.Plan, o apply.Object) *unstructured.Unstructured {
	for _, t := range p.Spec.Targets {
		for _, m := range t.Manifests {
			if m.GetKind() == o.Kind && m.GetNamespace() == o.Namespace && m.GetName() == o.Name && o.Kind == "ConfigMap" {
				return m
			}
		}
	}
	return nil
}

func confirmNames(args []string) []string {
	var out []string
	for i := 1; i < len(args); i += 2 {
		out = append(out, args[i])
	}
	return out
}

func mustSteps(t *testing.T, p *plan.Plan) []apply.Step {
	t.Helper()
	s, err := apply.Steps(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// planObjects are the objects the plan moves, the volumes it hands over,
// and, by name, the objects it creates in the targets.
func planObjects(p *plan.Plan) []apply.Object {
	var out []apply.Object
	for _, c := range p.Spec.Preconditions {
		if c.Action == plan.ActionMove || c.Action == plan.ActionRebind {
			out = append(out, apply.Object{APIVersion: c.APIVersion, Kind: c.Kind, Namespace: c.Namespace, Name: c.Name})
		}
	}
	return out
}

// gvr finds the resource of the kinds a plan moves.
func gvr(o apply.Object) schema.GroupVersionResource {
	gv, _ := schema.ParseGroupVersion(o.APIVersion)
	res := strings.ToLower(o.Kind) + "s"
	switch o.Kind {
	case "Ingress":
		res = "ingresses"
	case "NetworkPolicy":
		res = "networkpolicies"
	case "HorizontalPodAutoscaler":
		res = "horizontalpodautoscalers"
	}
	return gv.WithResource(res)
}

// normalized strips what the server sets on any object, so that an object
// and its restored copy compare equal: identity, versions, times, status,
// and a volume's claim UID (the claim is a new object).
func normalized(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	for _, f := range []string{"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"} {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(c.Object, "status")
	unstructured.RemoveNestedField(c.Object, "spec", "claimRef", "uid")
	unstructured.RemoveNestedField(c.Object, "spec", "claimRef", "resourceVersion")
	return c.Object
}

// objects reads each object normalized, keyed "Kind ns/name"; missing ones
// are absent.
func (l *liveRun) objects(t *testing.T, dyn dynamic.Interface, objs []apply.Object) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, o := range objs {
		var ri dynamic.ResourceInterface = dyn.Resource(gvr(o))
		if o.Namespace != "" {
			ri = dyn.Resource(gvr(o)).Namespace(o.Namespace)
		}
		u, err := ri.Get(t.Context(), o.Name, metav1.GetOptions{})
		if err != nil {
			continue
		}
		out[o.String()] = normalized(u)
	}
	return out
}

func sameObjects(t *testing.T, before, after map[string]map[string]any) {
	t.Helper()
	for k, b := range before {
		a, ok := after[k]
		switch {
		case !ok:
			t.Errorf("%s is gone", k)
		case !reflect.DeepEqual(a, b):
			ab, _ := json.Marshal(a)
			bb, _ := json.Marshal(b)
			t.Errorf("%s differs:\n now %s\n was %s", k, ab, bb)
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d objects, %d before", len(after), len(before))
	}
}

// checkMoved checks the cluster once the plan is carried out: every moved
// workload available in its target as its source was, every moved Service
// with ready endpoints where its source had some, every moved claim bound
// to its original volume with its marker, RoleBinding subjects rewritten,
// everything created labelled, the source namespaces gone.
func (l *liveRun) checkMoved(t *testing.T, dyn dynamic.Interface, p *plan.Plan, before map[string]map[string]any) {
	ctx := t.Context()
	ns := l.namespaces(t)
	for _, tg := range p.Spec.Targets {
		if _, ok := ns[tg.Name]; !ok && len(tg.Moves) > 0 {
			t.Errorf("target %s is not there", tg.Name)
		}
		for _, s := range tg.Sources {
			if _, ok := ns[s]; ok && s != tg.Name {
				t.Errorf("source namespace %s is still there", s)
			}
		}
		for _, mv := range tg.Moves {
			name := cmpName(mv.NewName, mv.Name)
			src := before[apply.Object{Kind: mv.Kind, Namespace: mv.From, Name: mv.Name}.String()]
			obj := apply.Object{APIVersion: apiVersionOf(src), Kind: mv.Kind, Namespace: tg.Name, Name: name}
			var ri dynamic.ResourceInterface = dyn.Resource(gvr(obj)).Namespace(tg.Name)
			u, err := ri.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Errorf("%s: %v", obj, err)
				continue
			}
			if u.GetLabels()[apply.OperationLabel] == "" {
				t.Errorf("%s has no %s label", obj, apply.OperationLabel)
			}
			switch mv.Kind {
			case "Deployment", "StatefulSet":
				want, _, _ := unstructured.NestedInt64(src, "spec", "replicas")
				got, _, _ := unstructured.NestedInt64(u.Object, "status", "availableReplicas")
				if got < want && l.sourceWasAvailable(mv.From, mv.Name) {
					t.Errorf("%s: %d available, want %d", obj, got, want)
				}
			case "PersistentVolumeClaim":
				vol, _, _ := unstructured.NestedString(u.Object, "spec", "volumeName")
				phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
				pv, err := l.kube.CoreV1().PersistentVolumes().Get(ctx, vol, metav1.GetOptions{})
				wantVol, _, _ := unstructured.NestedString(src, "spec", "volumeName")
				switch {
				case err != nil:
					t.Errorf("%s: volume %s: %v", obj, vol, err)
				case vol != wantVol || phase != "Bound":
					t.Errorf("%s: bound to %q (%s), want its original volume %s", obj, vol, phase, wantVol)
				case pv.Annotations[markerAnnotation] != "written before the move to "+pv.Name:
					t.Errorf("volume %s lost its marker: %v", pv.Name, pv.Annotations)
				case pv.Spec.ClaimRef == nil || pv.Spec.ClaimRef.UID != u.GetUID():
					t.Errorf("volume %s claimed by %v, not by %s", pv.Name, pv.Spec.ClaimRef, obj)
				}
			case "RoleBinding":
				subjects, _, _ := unstructured.NestedSlice(u.Object, "subjects")
				for _, s := range subjects {
					m, _ := s.(map[string]any)
					if m["kind"] == "ServiceAccount" && m["namespace"] == mv.From {
						t.Errorf("%s: subject %v still names the source namespace", obj, m)
					}
				}
			case "Service":
				if ready(ctx, t, l.kube, tg.Name, name) == 0 && l.sourceHadEndpoints(mv.From, mv.Name) {
					t.Errorf("%s has no ready endpoints", obj)
				}
			}
		}
	}
	l.noVolumeAdrift(t)
}

func cmpName(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func apiVersionOf(m map[string]any) string {
	v, _ := m["apiVersion"].(string)
	return v
}

// sourceWasAvailable and sourceHadEndpoints read BlueOcean's own snapshot
// of the cluster before the run: a workload whose pods were Pending, or a
// Service that had no endpoints (a seed fault), is not expected to do
// better once moved.
func (l *liveRun) sourceWasAvailable(ns, name string) bool {
	return !slices.Contains(l.unavailable, ns+"/"+name)
}

func (l *liveRun) sourceHadEndpoints(ns, name string) bool {
	return !slices.Contains(l.noEndpoints, ns+"/"+name)
}

func ready(ctx context.Context, t *testing.T, kube kubernetes.Interface, ns, svc string) int {
	t.Helper()
	l, err := kube.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + svc})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range l.Items {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				n++
			}
		}
	}
	return n
}

// noVolumeAdrift fails when a volume is Released, Available with a claim
// reference, or claimed by a claim that does not name it.
func (l *liveRun) noVolumeAdrift(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	pvs, err := l.kube.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := l.kube.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byVolume := map[string][]string{}
	for _, c := range claims.Items {
		if c.Spec.VolumeName != "" {
			byVolume[c.Spec.VolumeName] = append(byVolume[c.Spec.VolumeName], c.Namespace+"/"+c.Name)
		}
	}
	for _, pv := range pvs.Items {
		if pv.Status.Phase != corev1.VolumeBound {
			t.Errorf("volume %s is %s", pv.Name, pv.Status.Phase)
		}
		if n := len(byVolume[pv.Name]); n > 1 {
			t.Errorf("volume %s is named by %d claims: %v", pv.Name, n, byVolume[pv.Name])
		}
		if pv.Annotations[markerAnnotation] == "" {
			t.Errorf("volume %s lost its marker", pv.Name)
		}
	}
}

// unavailableBefore records which workloads and Services were short of
// pods or endpoints before the run.
func (l *liveRun) unavailableBefore(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	deps, err := l.kube.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deps.Items {
		if d.Spec.Replicas != nil && d.Status.AvailableReplicas < *d.Spec.Replicas {
			l.unavailable = append(l.unavailable, d.Namespace+"/"+d.Name)
		}
	}
	sts, err := l.kube.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts.Items {
		if s.Spec.Replicas != nil && s.Status.AvailableReplicas < *s.Spec.Replicas {
			l.unavailable = append(l.unavailable, s.Namespace+"/"+s.Name)
		}
	}
	svcs, err := l.kube.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs.Items {
		if len(s.Spec.Selector) > 0 && ready(ctx, t, l.kube, s.Namespace, s.Name) == 0 {
			l.noEndpoints = append(l.noEndpoints, s.Namespace+"/"+s.Name)
		}
	}
}
