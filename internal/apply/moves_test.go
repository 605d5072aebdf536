package apply

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/snapshot"
)

// TestBlockers checks what stops an approved run of the product plan
// before it writes anything, and that each flag accepts its own kind only.
func TestBlockers(t *testing.T) {
	t.Parallel()
	p := demoPlan(t, plan.StrategyProduct)
	steps, err := Steps(p)
	if err != nil {
		t.Fatal(err)
	}
	count := func(list []string, prefix string) int {
		n := 0
		for _, s := range list {
			if strings.HasPrefix(s, prefix) {
				n++
			}
		}
		return n
	}
	cases := []struct {
		name                       string
		o                          Options
		secrets, refs, helm        int // blocking
		acceptedRefs, acceptedHelm int
	}{
		{name: "nothing accepted", secrets: 1, refs: 1, helm: 4},
		{name: "secret values", o: Options{IncludeSecretValues: true}, refs: 1, helm: 4},
		{name: "references", o: Options{AcceptReference: true}, secrets: 1, helm: 4, acceptedRefs: 1},
		{name: "helm", o: Options{AcceptHelm: true}, secrets: 1, refs: 1, acceptedHelm: 4},
		{name: "everything", o: Options{IncludeSecretValues: true, AcceptReference: true, AcceptHelm: true}, acceptedRefs: 1, acceptedHelm: 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			blocking, accepted := blockers(p, steps, tc.o)
			got := [5]int{count(blocking, "Secret "), count(blocking, "reference "), count(blocking, "Helm release "),
				count(accepted, "reference "), count(accepted, "Helm release ")}
			want := [5]int{tc.secrets, tc.refs, tc.helm, tc.acceptedRefs, tc.acceptedHelm}
			if got != want {
				t.Errorf("secrets, references, helm blocking; references, helm accepted: %v, want %v\nblocking: %q\naccepted: %q", got, want, blocking, accepted)
			}
		})
	}
	blocking, _ := blockers(p, steps, Options{})
	text := strings.Join(blocking, "\n")
	for _, want := range []string{
		"Secret postgres-central/",
		"Deployment/platform/pgbouncer",
		"Helm release loki of namespace loki",
		"helm upgrade --install loki REPO/loki --version 1.0.0 -n monitoring",
		"-n monitoring",
		"meta.helm.sh/release-namespace=monitoring",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the blockers do not say %q:\n%s", want, text)
		}
	}
}

// TestSecretManifest checks the copy of a Secret: new name and namespace,
// same type, data, labels and annotations, nothing the server set.
func TestSecretManifest(t *testing.T) {
	t.Parallel()
	src := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "old", UID: "u1", ResourceVersion: "7", Labels: map[string]string{"app": "db"},
			Annotations: map[string]string{"note": "x", "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
		Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"password": []byte("hunter2")},
	}
	m, err := secretManifest(src, Object{Kind: "Secret", Namespace: "new", Name: "db-old"})
	if err != nil {
		t.Fatal(err)
	}
	if m.GetName() != "db-old" || m.GetNamespace() != "new" || m.GetUID() != "" || m.GetResourceVersion() != "" ||
		m.GetLabels()["app"] != "db" || m.GetAnnotations()["note"] != "x" || len(m.GetAnnotations()) != 1 {
		t.Errorf("metadata %+v", m.Object["metadata"])
	}
	if d, _, _ := unstructured.NestedString(m.Object, "data", "password"); d != "aHVudGVyMg==" {
		t.Errorf("data %q", d)
	}
	if typ, _, _ := unstructured.NestedString(m.Object, "type"); typ != "Opaque" {
		t.Errorf("type %q", typ)
	}
}

// TestConflictManagers reads the managers out of a server-side apply
// conflict as the API server reports it.
func TestConflictManagers(t *testing.T) {
	t.Parallel()
	err := apierrors.NewApplyConflict([]metav1.StatusCause{
		{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "kubectl-client-side-apply" using v1: .data.A`, Field: ".data.A"},
		{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "kubectl-client-side-apply" using v1: .data.B`, Field: ".data.B"},
		{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "helm" using v1: .data.C`, Field: ".data.C"},
	}, "Apply failed with 3 conflicts")
	got := conflictManagers(err)
	if strings.Join(got, ",") != "kubectl-client-side-apply,helm" {
		t.Errorf("managers %v", got)
	}
	ce := &ConflictError{Object: Object{Kind: "ConfigMap", Namespace: "t", Name: "c"}, Managers: got, Err: err}
	if msg := ce.Error(); !strings.Contains(msg, "ConfigMap t/c") || !strings.Contains(msg, "kubectl-client-side-apply, helm") || !strings.Contains(msg, "never forces") {
		t.Errorf("conflict message: %s", msg)
	}
}

// TestReferences finds the Service addresses a moved object holds.
func TestReferences(t *testing.T) {
	t.Parallel()
	cm := &unstructured.Unstructured{Object: map[string]any{"kind": "ConfigMap", "data": map[string]any{
		"A": "http://api.shop.svc.cluster.local:8080", "B": "redis.cache.svc:6379 and api.shop.svc", "C": "app.example.com"}}}
	dep := &unstructured.Unstructured{Object: map[string]any{"kind": "Deployment", "spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{"env": []any{map[string]any{"name": "DB", "value": "pg.data.svc.cluster.local"}, map[string]any{"name": "X", "value": "plain"}}}}}}}}}
	cases := []struct {
		obj  *unstructured.Unstructured
		want [][2]string
	}{
		{cm, [][2]string{{"api", "shop"}, {"redis", "cache"}}},
		{dep, [][2]string{{"pg", "data"}}},
	}
	for _, tc := range cases {
		got := references(tc.obj)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.obj.GetKind(), got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: %v, want %v", tc.obj.GetKind(), got, tc.want)
			}
		}
	}
}

// TestVerifyMoves checks the verification of a plan with moves against a
// fresh snapshot: moved objects and volumes by UID and resourceVersion
// (UID only once resumed), source namespaces not judged empty before
// their objects are gone, other namespaces still are.
func TestVerifyMoves(t *testing.T) {
	t.Parallel()
	ns := func(name, uid string) corev1.Namespace {
		return corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(uid), ResourceVersion: "1"}}
	}
	cm := func(ns, name, uid, rv string) corev1.ConfigMap {
		return corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid), ResourceVersion: rv}}
	}
	obj := func(kind, ns, name, uid, rv string) Object {
		return Object{APIVersion: "v1", Kind: kind, Namespace: ns, Name: name, UID: uid, ResourceVersion: rv}
	}
	src := obj("ConfigMap", "old", "app", "c1", "5")
	pv := obj("PersistentVolume", "", "vol", "v1", "9")
	claim := obj("PersistentVolumeClaim", "old", "data", "p1", "3")
	steps := []StepResult{
		{Step: Step{Index: 1, Change: ChangeCreate, Object: obj("ConfigMap", "new", "app", "", "")}, Status: StatusPending},
		{Step: Step{Index: 2, Change: ChangeRebind, Object: obj("PersistentVolumeClaim", "new", "data", "", ""), From: &claim, Volume: &pv}, Status: StatusPending},
		{Step: Step{Index: 3, Change: ChangeDelete, Object: src}, Status: StatusPending},
		{Step: Step{Index: 4, Change: ChangeDelete, Object: obj("Namespace", "", "old", "n1", "1")}, Status: StatusPending},
		{Step: Step{Index: 5, Change: ChangeDelete, Object: obj("Namespace", "", "empty", "n2", "1")}, Status: StatusPending},
	}
	base := func() *snapshot.Snapshot {
		return &snapshot.Snapshot{
			Namespaces: []corev1.Namespace{ns("old", "n1"), ns("empty", "n2"), ns("new", "n3")},
			ConfigMaps: []corev1.ConfigMap{cm("old", "app", "c1", "5")},
			PVCs:       []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Namespace: "old", Name: "data", UID: "p1", ResourceVersion: "3"}}},
			PVs:        []corev1.PersistentVolume{{ObjectMeta: metav1.ObjectMeta{Name: "vol", UID: "v1", ResourceVersion: "9"}}},
		}
	}
	cases := []struct {
		name    string
		edit    func(s *snapshot.Snapshot)
		resumed bool
		want    []string
	}{
		{name: "as planned"},
		{name: "a moved object changed", edit: func(s *snapshot.Snapshot) { s.ConfigMaps[0].ResourceVersion = "6" },
			want: []string{"ConfigMap old/app: changed since the plan was built (resourceVersion 6, the plan's 5)"}},
		{name: "a moved object changed, resumed", edit: func(s *snapshot.Snapshot) { s.ConfigMaps[0].ResourceVersion = "6" }, resumed: true},
		{name: "a moved object recreated", edit: func(s *snapshot.Snapshot) { s.ConfigMaps[0].UID = "c2" }, resumed: true,
			want: []string{"ConfigMap old/app: deleted and created again since the plan was built (uid c2, the plan's c1)"}},
		{name: "a volume gone", edit: func(s *snapshot.Snapshot) { s.PVs = nil },
			want: []string{"PersistentVolume vol: deleted since the plan was built"}},
		{name: "a claim changed", edit: func(s *snapshot.Snapshot) { s.PVCs[0].ResourceVersion = "4" },
			want: []string{"PersistentVolumeClaim old/data: changed since the plan was built"}},
		{name: "an empty namespace filled", edit: func(s *snapshot.Snapshot) { s.ConfigMaps = append(s.ConfigMaps, cm("empty", "late", "c3", "1")) },
			want: []string{"Namespace empty: not empty any more, it holds 1 ConfigMap: not deleted"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			if tc.edit != nil {
				tc.edit(s)
			}
			got := verify(steps, nil, s, tc.resumed)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("problem %q, want %q", got[i], tc.want[i])
				}
			}
		})
	}
}

// TestRollbackSteps checks the order a rollback undoes a run in: source
// namespaces back, the run's own objects removed, volumes handed back,
// source objects restored, the run's namespaces removed; only what the
// run started, each once.
func TestRollbackSteps(t *testing.T) {
	t.Parallel()
	o := func(kind, ns, name string) *Object {
		return &Object{APIVersion: "v1", Kind: kind, Namespace: ns, Name: name, UID: "uid-" + name}
	}
	intent := func(step int, change Change, obj *Object) Record {
		return Record{Type: RecordIntent, Step: step, Change: change, Object: obj}
	}
	claim, pv := o("PersistentVolumeClaim", "src", "data"), o("PersistentVolume", "", "vol")
	rebind := intent(3, ChangeRebind, o("PersistentVolumeClaim", "dst", "data"))
	rebind.From, rebind.Volume = claim, pv
	jr := &Journal{Begin: Record{Type: RecordBegin}, Records: []Record{
		intent(1, ChangeCreate, o("Namespace", "", "dst")),
		intent(2, ChangeCreate, o("ConfigMap", "dst", "cfg")),
		rebind,
		intent(4, ChangeScaleDown, &Object{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "src", Name: "web", UID: "uid-web"}),
		intent(5, ChangeDelete, o("ConfigMap", "src", "cfg")),
		intent(6, ChangeDelete, o("Namespace", "", "src")),
		{Type: RecordRestoreDone, Step: 2, Change: ChangeRemove, Object: o("ConfigMap", "dst", "cfg")},
	}}
	saved := []unstructured.Unstructured{}
	for _, s := range []struct{ apiVersion, kind, ns, name string }{
		{"apps/v1", "Deployment", "src", "web"}, {"v1", "ConfigMap", "src", "cfg"}, {"v1", "Namespace", "", "src"},
		{"v1", "PersistentVolumeClaim", "src", "data"}, {"v1", "PersistentVolume", "", "vol"},
	} {
		u := unstructured.Unstructured{}
		u.SetAPIVersion(s.apiVersion)
		u.SetKind(s.kind)
		u.SetNamespace(s.ns)
		u.SetName(s.name)
		u.SetUID(types.UID("uid-" + s.name))
		saved = append(saved, u)
	}
	got := rollbackSteps(jr, saved)
	var order []string
	for _, s := range got {
		order = append(order, fmt.Sprintf("%d %s %s %s", s.Index, s.Change, s.Object, s.Status))
	}
	want := []string{
		"6 restore Namespace src pending",
		"2 remove ConfigMap dst/cfg restored",
		"3 unbind PersistentVolumeClaim dst/data pending",
		"5 restore ConfigMap src/cfg pending",
		"4 restore Deployment src/web pending",
		"1 remove Namespace dst pending",
	}
	if strings.Join(order, "\n") != strings.Join(want, "\n") {
		t.Errorf("rollback steps:\n%s\nwant:\n%s", strings.Join(order, "\n"), strings.Join(want, "\n"))
	}
}
