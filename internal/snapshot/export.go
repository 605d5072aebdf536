package snapshot

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ProtoList is a Kubernetes list type with its generated protobuf codec.
type ProtoList = protoList

// Kind is one modelled kind, as a collector outside this package sees it:
// what to list and how to move what was listed into a snapshot. The set
// of kinds stays defined here, once.
type Kind struct{ k kind }

// ModelledKinds returns the modelled kinds, largest first.
func ModelledKinds() []Kind {
	ks := kinds()
	out := make([]Kind, len(ks))
	for i, k := range ks {
		out[i] = Kind{k}
	}
	return out
}

// EachObject calls fn for every object of a modelled kind in s, with its
// kind's name (Others, kept as references, are not objects).
func (s *Snapshot) EachObject(fn func(kind string, o metav1.Object)) {
	for _, k := range kinds() {
		k.each(s, func(o metav1.Object) { fn(k.Kind, o) })
	}
}

// Resource is the kind's group, version and resource.
func (k Kind) Resource() schema.GroupVersionResource { return k.k.GVR }

// Name is the kind's name ("Pod").
func (k Kind) Name() string { return k.k.Kind }

// Namespaced reports whether objects of the kind live in namespaces.
func (k Kind) Namespaced() bool { return k.k.Namespaced }

// FieldSelector restricts what a LIST of the kind returns ("" for all).
func (k Kind) FieldSelector() string { return k.k.FieldSelector }

// GroupResource names the kind the way kubectl does: "deployments.apps".
func (k Kind) GroupResource() string { return k.k.GroupResource() }

// NewList returns an empty list of the kind, to decode a LIST page into.
func (k Kind) NewList() ProtoList { return k.k.newList() }

// Append moves the items of a list into s, slimming each.
func (k Kind) Append(s *Snapshot, l ProtoList) { k.k.take(s, l) }

// Count returns how many objects of the kind s holds.
func (k Kind) Count(s *Snapshot) int { return k.k.count(s) }

// Status returns the kind's status record with no count and no error.
func (k Kind) Status() KindStatus {
	return KindStatus{Group: k.k.GVR.Group, Version: k.k.GVR.Version, Resource: k.k.GVR.Resource, Kind: k.k.Kind, Namespaced: k.k.Namespaced}
}

// IsModelled reports whether the group/resource is one of the modelled kinds.
func IsModelled(group, resource string) bool {
	_, ok := newKindIndex().byResource[schema.GroupResource{Group: group, Resource: resource}]
	return ok
}

// SlimSecret drops what a snapshot never keeps of a Secret: its values,
// managed fields and last-applied annotation.
func SlimSecret(s *corev1.Secret) {
	slimMeta(s, corev1.SchemeGroupVersion.String())
	slimSecret(s)
}

// Move appends every object of the kind held by src to dst.
func (k Kind) Move(dst, src *Snapshot) { k.k.take(dst, k.k.list(src)) }
