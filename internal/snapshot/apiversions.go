package snapshot

import (
	"encoding/json"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Which API versions an object was written through is the evidence of a
// deprecated API still in use. The slim model keeps it only where it differs
// from the version the object is stored in here, so that a cluster that uses
// current APIs only carries nothing more, and in a compact form: the
// managed-fields entries of other versions without their field sets, and
// the last-applied annotation cut to its apiVersion.

// keepWrittenAPIVersions returns the managed-fields entries written through
// an API version other than stored, without their field sets, one per
// manager, operation, subresource and version.
func keepWrittenAPIVersions(entries []metav1.ManagedFieldsEntry, stored string) []metav1.ManagedFieldsEntry {
	var out []metav1.ManagedFieldsEntry
	for _, e := range entries {
		if e.APIVersion == "" || e.APIVersion == stored {
			continue
		}
		kept := metav1.ManagedFieldsEntry{Manager: e.Manager, Operation: e.Operation, APIVersion: e.APIVersion,
			Time: e.Time, Subresource: e.Subresource}
		if i := slices.IndexFunc(out, func(o metav1.ManagedFieldsEntry) bool {
			return o.Manager == kept.Manager && o.Operation == kept.Operation && o.APIVersion == kept.APIVersion &&
				o.Subresource == kept.Subresource
		}); i >= 0 {
			continue
		}
		out = append(out, kept)
	}
	return out
}

// lastAppliedAPIVersion is the apiVersion of a last-applied-configuration
// annotation, or "" when it names none.
func lastAppliedAPIVersion(annotation string) string {
	// kubectl writes the annotation with its keys sorted, apiVersion
	// first: reading it in place costs no allocation on every object of
	// a large export. Anything else is decoded in full.
	const prefix = `{"apiVersion":"`
	if rest, ok := strings.CutPrefix(annotation, prefix); ok {
		if end := strings.IndexAny(rest, `"\`); end >= 0 && rest[end] == '"' {
			return rest[:end]
		}
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
	}
	if json.Unmarshal([]byte(annotation), &head) != nil {
		return ""
	}
	return head.APIVersion
}

// compactLastApplied is the annotation as the slim model keeps it: its
// apiVersion alone.
func compactLastApplied(apiVersion string) string {
	b, err := json.Marshal(struct {
		APIVersion string `json:"apiVersion"`
	}{apiVersion})
	if err != nil {
		// A struct of one string always encodes.
		return ""
	}
	return string(b)
}

// EvidenceSource says how an API version is known to have been used for an
// object.
type EvidenceSource string

// Sources of API version evidence, strongest first.
const (
	// WrittenThrough: a managed-fields entry records a write (create,
	// update, patch or apply) through the version. Reads leave no entry.
	WrittenThrough EvidenceSource = "managedFields"
	// LastAppliedWith: kubectl's last-applied-configuration names the
	// version; the object may have been applied through another since.
	LastAppliedWith EvidenceSource = "last-applied-configuration"
)

// APIVersionUse is one piece of evidence that an object was written through
// an API version.
type APIVersionUse struct {
	APIVersion string
	Source     EvidenceSource
	// Manager, Operation, Subresource and Time come from the managed-fields
	// entry; empty for the last-applied annotation.
	Manager     string
	Operation   string
	Subresource string
	Time        *metav1.Time
}

// WrittenAPIVersions returns what the slim model kept of the API versions
// the object was written through, other than the version it is stored in
// here.
func WrittenAPIVersions(o metav1.Object, stored schema.GroupVersion) []APIVersionUse {
	var out []APIVersionUse
	for _, e := range keepWrittenAPIVersions(o.GetManagedFields(), stored.String()) {
		out = append(out, APIVersionUse{APIVersion: e.APIVersion, Source: WrittenThrough, Manager: e.Manager,
			Operation: string(e.Operation), Subresource: e.Subresource, Time: e.Time})
	}
	if v := lastAppliedAPIVersion(o.GetAnnotations()[LastAppliedAnnotation]); v != "" && v != stored.String() {
		out = append(out, APIVersionUse{APIVersion: v, Source: LastAppliedWith})
	}
	return out
}

// Each calls fn for every object of the kind in s.
func (k Kind) Each(s *Snapshot, fn func(metav1.Object)) { k.k.each(s, fn) }

// slimCRD keeps of a CustomResourceDefinition its names and, per version,
// whether it is served, stored and deprecated with its warning: what tells
// an object written through a deprecated version. Schemas, the largest
// part, and conversion webhooks (with their CA bundles) are read by no
// engine.
func slimCRD(c *apiextensionsv1.CustomResourceDefinition) {
	versions := make([]apiextensionsv1.CustomResourceDefinitionVersion, len(c.Spec.Versions))
	for i, v := range c.Spec.Versions {
		versions[i] = apiextensionsv1.CustomResourceDefinitionVersion{Name: v.Name, Served: v.Served, Storage: v.Storage,
			Deprecated: v.Deprecated, DeprecationWarning: v.DeprecationWarning}
	}
	c.Spec = apiextensionsv1.CustomResourceDefinitionSpec{Group: c.Spec.Group, Names: c.Spec.Names, Scope: c.Spec.Scope,
		Versions: versions}
	c.Status = apiextensionsv1.CustomResourceDefinitionStatus{StoredVersions: c.Status.StoredVersions}
}

// WrittenThroughVersions returns the API versions, other than stored, that
// the managed-fields entries record writes through, each once, in order:
// what a reference to an unmodelled object keeps of its managed fields.
func WrittenThroughVersions(entries []metav1.ManagedFieldsEntry, stored string) []string {
	var out []string
	for _, e := range keepWrittenAPIVersions(entries, stored) {
		if !slices.Contains(out, e.APIVersion) {
			out = append(out, e.APIVersion)
		}
	}
	return out
}
