package apilifecycle

import (
	"testing"
)

// guideRemovals is every removal the Kubernetes deprecation guide lists for
// 1.16 through 1.32 (https://kubernetes.io/docs/reference/using-api/deprecation-guide/),
// with the release that removed it and the replacement it names.
var guideRemovals = []struct {
	apiVersion, kind string
	removed          int
	replacement      string
}{
	{"flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", 32, "flowcontrol.apiserver.k8s.io/v1"},
	{"flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration", 32, "flowcontrol.apiserver.k8s.io/v1"},
	{"flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", 29, "flowcontrol.apiserver.k8s.io/v1"},
	{"flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration", 29, "flowcontrol.apiserver.k8s.io/v1"},
	{"storage.k8s.io/v1beta1", "CSIStorageCapacity", 27, "storage.k8s.io/v1"},
	{"flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", 26, "flowcontrol.apiserver.k8s.io/v1"},
	{"flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", 26, "flowcontrol.apiserver.k8s.io/v1"},
	{"autoscaling/v2beta2", "HorizontalPodAutoscaler", 26, "autoscaling/v2"},
	{"batch/v1beta1", "CronJob", 25, "batch/v1"},
	{"discovery.k8s.io/v1beta1", "EndpointSlice", 25, "discovery.k8s.io/v1"},
	{"events.k8s.io/v1beta1", "Event", 25, "events.k8s.io/v1"},
	{"autoscaling/v2beta1", "HorizontalPodAutoscaler", 25, "autoscaling/v2"},
	{"policy/v1beta1", "PodDisruptionBudget", 25, "policy/v1"},
	{"policy/v1beta1", "PodSecurityPolicy", 25, ""},
	{"node.k8s.io/v1beta1", "RuntimeClass", 25, "node.k8s.io/v1"},
	{"admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", 22, "admissionregistration.k8s.io/v1"},
	{"admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", 22, "admissionregistration.k8s.io/v1"},
	{"apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", 22, "apiextensions.k8s.io/v1"},
	{"apiregistration.k8s.io/v1beta1", "APIService", 22, "apiregistration.k8s.io/v1"},
	{"authentication.k8s.io/v1beta1", "TokenReview", 22, "authentication.k8s.io/v1"},
	{"authorization.k8s.io/v1beta1", "SubjectAccessReview", 22, "authorization.k8s.io/v1"},
	{"authorization.k8s.io/v1beta1", "LocalSubjectAccessReview", 22, "authorization.k8s.io/v1"},
	{"authorization.k8s.io/v1beta1", "SelfSubjectAccessReview", 22, "authorization.k8s.io/v1"},
	{"certificates.k8s.io/v1beta1", "CertificateSigningRequest", 22, "certificates.k8s.io/v1"},
	{"coordination.k8s.io/v1beta1", "Lease", 22, "coordination.k8s.io/v1"},
	{"extensions/v1beta1", "Ingress", 22, "networking.k8s.io/v1"},
	{"networking.k8s.io/v1beta1", "Ingress", 22, "networking.k8s.io/v1"},
	{"networking.k8s.io/v1beta1", "IngressClass", 22, "networking.k8s.io/v1"},
	{"rbac.authorization.k8s.io/v1beta1", "ClusterRole", 22, "rbac.authorization.k8s.io/v1"},
	{"rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", 22, "rbac.authorization.k8s.io/v1"},
	{"rbac.authorization.k8s.io/v1beta1", "Role", 22, "rbac.authorization.k8s.io/v1"},
	{"rbac.authorization.k8s.io/v1beta1", "RoleBinding", 22, "rbac.authorization.k8s.io/v1"},
	{"scheduling.k8s.io/v1beta1", "PriorityClass", 22, "scheduling.k8s.io/v1"},
	{"storage.k8s.io/v1beta1", "CSIDriver", 22, "storage.k8s.io/v1"},
	{"storage.k8s.io/v1beta1", "CSINode", 22, "storage.k8s.io/v1"},
	{"storage.k8s.io/v1beta1", "StorageClass", 22, "storage.k8s.io/v1"},
	{"storage.k8s.io/v1beta1", "VolumeAttachment", 22, "storage.k8s.io/v1"},
	{"extensions/v1beta1", "NetworkPolicy", 16, "networking.k8s.io/v1"},
	{"extensions/v1beta1", "PodSecurityPolicy", 16, "policy/v1beta1"},
	{"extensions/v1beta1", "DaemonSet", 16, "apps/v1"},
	{"extensions/v1beta1", "Deployment", 16, "apps/v1"},
	{"extensions/v1beta1", "ReplicaSet", 16, "apps/v1"},
	{"apps/v1beta2", "DaemonSet", 16, "apps/v1"},
	{"apps/v1beta1", "Deployment", 16, "apps/v1"},
	{"apps/v1beta2", "Deployment", 16, "apps/v1"},
	{"apps/v1beta1", "StatefulSet", 16, "apps/v1"},
	{"apps/v1beta2", "StatefulSet", 16, "apps/v1"},
	{"apps/v1beta2", "ReplicaSet", 16, "apps/v1"},
}

func TestTableCoversGuideRemovals(t *testing.T) {
	t.Parallel()
	tab, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range guideRemovals {
		t.Run(want.apiVersion+"/"+want.kind, func(t *testing.T) {
			t.Parallel()
			e, ok := tab.Lookup(want.apiVersion, want.kind)
			if !ok {
				t.Fatalf("%s %s is not in the table", want.apiVersion, want.kind)
			}
			if e.Removed != (Version{1, want.removed}) {
				t.Errorf("removed in %s, want 1.%d", e.Removed, want.removed)
			}
			if !e.Removed.AtLeast(e.Deprecated) || e.Deprecated.IsZero() {
				t.Errorf("deprecated in %s, removed in %s: deprecation must come first", e.Deprecated, e.Removed)
			}
			if got := e.ReplacementAPIVersion(); got != want.replacement {
				t.Errorf("replacement %q, want %q", got, want.replacement)
			}
			if e.Source == "" {
				t.Error("entry names no source")
			}
		})
	}
}

// Prerelease types that name no replacement get the newest version of the
// kind that is not deprecated; a kind with none keeps none.
func TestDerivedReplacement(t *testing.T) {
	t.Parallel()
	tab, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ apiVersion, kind, want string }{
		{"admissionregistration.k8s.io/v1beta1", "ValidatingAdmissionPolicy", "admissionregistration.k8s.io/v1"},
		{"admissionregistration.k8s.io/v1alpha1", "ValidatingAdmissionPolicyBinding", "admissionregistration.k8s.io/v1"},
		{"policy/v1beta1", "Eviction", "policy/v1"},
		{"resource.k8s.io/v1beta1", "ResourceClaim", "resource.k8s.io/v1"},
		{"policy/v1beta1", "PodSecurityPolicy", ""},
	} {
		e, ok := tab.Lookup(c.apiVersion, c.kind)
		if !ok {
			t.Errorf("%s %s is not in the table", c.apiVersion, c.kind)
			continue
		}
		if got := e.ReplacementAPIVersion(); got != c.want {
			t.Errorf("%s %s: replacement %q, want %q", c.apiVersion, c.kind, got, c.want)
		}
	}
}

func TestLookupUnknown(t *testing.T) {
	t.Parallel()
	tab, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ apiVersion, kind string }{
		{"apps/v1", "Deployment"}, {"networking.k8s.io/v1", "Ingress"}, {"v1", "Pod"}, {"not/a/version", "X"},
	} {
		if e, ok := tab.Lookup(c.apiVersion, c.kind); ok {
			t.Errorf("%s %s: got lifecycle %+v, want none for a current API", c.apiVersion, c.kind, e)
		}
	}
}

func TestParseServerVersion(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want Version
		ok   bool
	}{
		{"v1.34.2", Version{1, 34}, true},
		{"v1.30.1-do.0", Version{1, 30}, true},
		{"1.29+", Version{1, 29}, true},
		{"", Version{}, false},
		{"vX.Y", Version{}, false},
	} {
		got, ok := ParseServerVersion(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseServerVersion(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// BenchmarkNew measures building the table, which each audit does once.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(); err != nil {
			b.Fatal(err)
		}
	}
}
