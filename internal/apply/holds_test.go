package apply

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	discoveryfake "k8s.io/client-go/discovery/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
)

// TestNamespaceHolds checks the emptiness rule on a fake API: defaults are
// not content, Secrets are told apart by type without reading them,
// derived kinds, Leases and subresources are not listed, and a kind that
// cannot be listed makes the namespace unknown.
func TestNamespaceHolds(t *testing.T) {
	t.Parallel()
	res := func(name, kind string, verbs ...string) metav1.APIResource {
		return metav1.APIResource{Name: name, Kind: kind, Namespaced: true, Verbs: verbs}
	}
	disc := &discoveryfake.FakeDiscovery{Fake: &clienttesting.Fake{Resources: []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			res("configmaps", "ConfigMap", "list"), res("serviceaccounts", "ServiceAccount", "list"), res("secrets", "Secret", "list"),
			res("events", "Event", "list"), res("endpoints", "Endpoints", "list"), res("pods", "Pod", "list"), res("pods/log", "Pod", "get"),
			res("bindings", "Binding", "create"),
		}},
		{GroupVersion: "coordination.k8s.io/v1", APIResources: []metav1.APIResource{res("leases", "Lease", "list")}},
		{GroupVersion: "discovery.k8s.io/v1", APIResources: []metav1.APIResource{res("endpointslices", "EndpointSlice", "list")}},
		{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{res("widgets", "Widget", "list"), res("gadgets", "Gadget", "list")}},
	}}}
	objs := map[string][]metav1.ObjectMeta{
		"configmaps":      {{Name: "kube-root-ca.crt"}},
		"serviceaccounts": {{Name: "default"}},
		"gadgets":         {{Name: "g1"}},
	}
	tokens := []metav1.ObjectMeta{
		{Name: "default-token", Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}},
		{Name: "robot-token", Annotations: map[string]string{corev1.ServiceAccountNameKey: "robot"}},
	}
	// A Secret named like a default token but of another type is content.
	others := []metav1.ObjectMeta{{Name: "opaque", Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}}}
	var listed []string
	meta := metadatafake.NewSimpleMetadataClient(metadatafake.NewTestScheme())
	meta.PrependReactor("list", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		r := a.GetResource().Resource
		listed = append(listed, r)
		if r == "widgets" {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "example.com", Resource: "widgets"}, "", nil)
		}
		items := objs[r]
		if r == "secrets" {
			items = others
			if fs := a.(clienttesting.ListAction).GetListRestrictions().Fields.String(); fs == "type="+string(corev1.SecretTypeServiceAccountToken) {
				items = tokens
			}
		}
		list := &metav1.List{}
		for _, m := range items {
			m.Namespace = a.GetNamespace()
			list.Items = append(list.Items, runtime.RawExtension{Object: &metav1.PartialObjectMetadata{ObjectMeta: m}})
		}
		return true, list, nil
	})
	cl := &cluster{disc: disc, meta: meta}
	found, unknown, err := cl.namespaceHolds(t.Context(), "ns")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Gadget g1", "Secret opaque", "Secret robot-token"}; !slices.Equal(found, want) {
		t.Errorf("found %v, want %v", found, want)
	}
	if len(unknown) != 1 || !strings.HasPrefix(unknown[0], "widgets.example.com (") || !strings.Contains(unknown[0], "forbidden") {
		t.Errorf("unknown %v, want the forbidden widgets", unknown)
	}
	slices.Sort(listed)
	if want := []string{"configmaps", "gadgets", "pods", "secrets", "secrets", "serviceaccounts", "widgets"}; !slices.Equal(listed, want) {
		t.Errorf("listed %v, want %v", listed, want)
	}
}
