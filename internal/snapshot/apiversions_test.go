package snapshot

import (
	"slices"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The slim model keeps, per object, the API versions other than its own
// that its managers wrote through and that its last-applied annotation
// names, in a compact form that survives the saved format; an object
// written through its own version keeps nothing.
func TestWrittenAPIVersionsKept(t *testing.T) {
	t.Parallel()
	const doc = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: old
  namespace: shop
  annotations:
    team: web
    kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"extensions/v1beta1","kind":"Ingress","metadata":{"name":"old","namespace":"shop"},"spec":{"rules":[{"host":"shop.example.com"}]}}'
  managedFields:
  - manager: kubectl-client-side-apply
    operation: Update
    apiVersion: extensions/v1beta1
    time: "2020-05-01T10:00:00Z"
    fieldsType: FieldsV1
    fieldsV1: {"f:spec": {"f:rules": {}}}
  - manager: kubectl-client-side-apply
    operation: Update
    apiVersion: extensions/v1beta1
    time: "2020-06-01T10:00:00Z"
    fieldsType: FieldsV1
    fieldsV1: {"f:metadata": {"f:annotations": {}}}
  - manager: nginx-ingress-controller
    operation: Update
    subresource: status
    apiVersion: networking.k8s.io/v1
    fieldsType: FieldsV1
    fieldsV1: {"f:status": {}}
spec:
  rules: [{host: shop.example.com}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: current
  namespace: shop
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"networking.k8s.io/v1","kind":"Ingress"}'
  managedFields:
  - manager: kubectl-client-side-apply
    operation: Update
    apiVersion: networking.k8s.io/v1
    fieldsType: FieldsV1
    fieldsV1: {"f:spec": {}}
spec:
  rules: [{host: new.example.com}]
`
	s, err := LoadManifests("fixture", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for name, snap := range loadedAndReloaded(t, s) {
		if len(snap.Ingresses) != 2 {
			t.Fatalf("%s: %d ingresses, want 2", name, len(snap.Ingresses))
		}
		i := slices.IndexFunc(snap.Ingresses, func(x networkingv1.Ingress) bool { return x.Name == "old" })
		old, current := &snap.Ingresses[i], &snap.Ingresses[1-i]
		got := WrittenAPIVersions(old, networkingv1.SchemeGroupVersion)
		if len(got) != 2 {
			t.Fatalf("%s: evidence %+v, want one managed-fields entry and the last-applied annotation", name, got)
		}
		if e := got[0]; e.Source != WrittenThrough || e.APIVersion != "extensions/v1beta1" || e.Manager != "kubectl-client-side-apply" ||
			e.Operation != "Update" || e.Time == nil {
			t.Errorf("%s: managed-fields evidence %+v, want kubectl-client-side-apply through extensions/v1beta1", name, e)
		}
		if e := got[1]; e.Source != LastAppliedWith || e.APIVersion != "extensions/v1beta1" {
			t.Errorf("%s: last-applied evidence %+v, want extensions/v1beta1", name, e)
		}
		for _, e := range old.ManagedFields {
			if e.FieldsV1 != nil {
				t.Errorf("%s: kept entry carries its field set: %+v", name, e)
			}
		}
		if a := old.Annotations[LastAppliedAnnotation]; a != `{"apiVersion":"extensions/v1beta1"}` {
			t.Errorf("%s: last-applied kept as %q, want its apiVersion alone", name, a)
		}
		if old.Annotations["team"] != "web" {
			t.Errorf("%s: other annotations lost: %v", name, old.Annotations)
		}
		if current.ManagedFields != nil || current.Annotations != nil {
			t.Errorf("%s: an object written through its own version keeps %v and %v, want nothing", name,
				current.ManagedFields, current.Annotations)
		}
		if got := WrittenAPIVersions(current, networkingv1.SchemeGroupVersion); len(got) != 0 {
			t.Errorf("%s: evidence %+v for an object written through its own version", name, got)
		}
	}
}

func TestLastAppliedAPIVersion(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{`{"apiVersion":"extensions/v1beta1","kind":"Ingress"}`, "extensions/v1beta1"},
		{`{"kind":"Ingress","apiVersion":"networking.k8s.io/v1"}`, "networking.k8s.io/v1"},
		{`{"apiVersion":"ex\u0074ensions/v1beta1"}`, "extensions/v1beta1"},
		{` {"apiVersion": "v1"}`, "v1"},
		{`not json`, ""},
		{``, ""},
	} {
		if got := lastAppliedAPIVersion(c.in); got != c.want {
			t.Errorf("lastAppliedAPIVersion(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A CustomResourceDefinition keeps its names and versions with their
// deprecation, not its schema; references to unmodelled objects keep the
// versions written through; both survive the saved format.
func TestCRDVersionsAndWrittenThroughKept(t *testing.T) {
	t.Parallel()
	const doc = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.purser.dev}
spec:
  group: example.purser.dev
  scope: Namespaced
  names: {plural: widgets, kind: Widget}
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
  - name: v1alpha1
    served: true
    storage: false
    deprecated: true
    deprecationWarning: use v1
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object}}}}
`
	s, err := LoadManifests("fixture", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	s.Others = append(s.Others, ObjectRef{Group: "example.purser.dev", Version: "v1", Kind: "Widget", Namespace: "shop",
		Name: "w", WrittenThrough: []string{"example.purser.dev/v1alpha1"}})
	for name, snap := range loadedAndReloaded(t, s) {
		if len(snap.CRDs) != 1 || len(snap.CRDs[0].Spec.Versions) != 2 {
			t.Fatalf("%s: CRDs %+v, want one with two versions", name, snap.CRDs)
		}
		v := snap.CRDs[0].Spec.Versions[1]
		if v.Name != "v1alpha1" || !v.Deprecated || v.DeprecationWarning == nil || *v.DeprecationWarning != "use v1" || !v.Served {
			t.Errorf("%s: version kept as %+v, want v1alpha1 served, deprecated with its warning", name, v)
		}
		if v.Schema != nil || snap.CRDs[0].Spec.Names.Kind != "Widget" || snap.CRDs[0].Spec.Group != "example.purser.dev" {
			t.Errorf("%s: CRD kept as %+v, want names and group without schemas", name, snap.CRDs[0].Spec)
		}
		if len(snap.Others) != 1 || !slices.Equal(snap.Others[0].WrittenThrough, []string{"example.purser.dev/v1alpha1"}) {
			t.Errorf("%s: references %+v, want the version written through kept", name, snap.Others)
		}
	}
}

func TestWrittenThroughVersions(t *testing.T) {
	t.Parallel()
	got := WrittenThroughVersions([]metav1.ManagedFieldsEntry{
		{Manager: "a", APIVersion: "example.purser.dev/v1alpha1"}, {Manager: "b", APIVersion: "example.purser.dev/v1"},
		{Manager: "c", APIVersion: "example.purser.dev/v1alpha1", Subresource: "status"}, {Manager: "d"},
	}, "example.purser.dev/v1")
	if !slices.Equal(got, []string{"example.purser.dev/v1alpha1"}) {
		t.Errorf("WrittenThroughVersions = %v, want the old version once", got)
	}
}
