package snapshot

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Overlay returns the cluster as it would be once the manifests of set
// are applied: each object of set replaces the cluster's object of the
// same kind, namespace and name (as kubectl apply would), the others
// are added, and the cluster's objects stay. The stand-ins the manifest
// reader adds for what every cluster has (IsBuiltin) give way to the
// cluster's own. It also returns the objects that come from set, the
// ones an audit of the manifests reports on.
//
// The result describes the cluster (its source, context, version,
// kinds read and served APIs) with set's file locations, so that
// findings point at the lines to edit. Neither input is changed.
func Overlay(cluster, set *Snapshot) (*Snapshot, []Ref) {
	out := &Snapshot{Meta: cluster.Meta}
	out.Meta.Source = set.Meta.Source + " over " + cluster.Meta.Source
	out.Meta.Locations = set.Meta.Locations
	out.Meta.Kinds = slices.Clone(cluster.Meta.Kinds)
	out.Meta.Warnings = append(slices.Clone(cluster.Meta.Warnings), set.Meta.Warnings...)
	var fromSet []Ref
	for _, k := range kinds() {
		k.overlay(out, cluster, set)
		k.each(set, func(o metav1.Object) {
			if IsBuiltin(o) {
				return
			}
			ns := o.GetNamespace()
			if !k.Namespaced {
				ns = ""
			}
			fromSet = append(fromSet, Ref{Kind: k.Kind, Namespace: ns, Name: o.GetName()})
		})
		for i := range out.Meta.Kinds {
			st := &out.Meta.Kinds[i]
			if st.Group == k.GVR.Group && st.Resource == k.GVR.Resource && st.Listed() {
				st.Count = k.count(out)
			}
		}
	}
	type otherID struct{ group, kind, ns, name string }
	replaced := map[otherID]bool{}
	for _, o := range set.Others {
		replaced[otherID{o.Group, o.Kind, o.Namespace, o.Name}] = true
		out.Others = append(out.Others, o)
		fromSet = append(fromSet, Ref{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name})
	}
	for _, o := range cluster.Others {
		if !replaced[otherID{o.Group, o.Kind, o.Namespace, o.Name}] {
			out.Others = append(out.Others, o)
		}
	}
	SortObjectRefs(out.Others)
	return out, fromSet
}
