// Package apilifecycle knows when each Kubernetes API version of a kind was
// deprecated and removed, and what replaces it. It is pure data: the
// generated prerelease-lifecycle methods of k8s.io/api for the versions that
// module still ships, and a table of older removals it no longer does.
package apilifecycle

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	admissionregistrationv1alpha1 "k8s.io/api/admissionregistration/v1alpha1"
	admissionregistrationv1beta1 "k8s.io/api/admissionregistration/v1beta1"
	appsv1beta1 "k8s.io/api/apps/v1beta1"
	appsv1beta2 "k8s.io/api/apps/v1beta2"
	authenticationv1 "k8s.io/api/authentication/v1"
	authenticationv1alpha1 "k8s.io/api/authentication/v1alpha1"
	authenticationv1beta1 "k8s.io/api/authentication/v1beta1"
	authorizationv1beta1 "k8s.io/api/authorization/v1beta1"
	autoscalingv2beta1 "k8s.io/api/autoscaling/v2beta1"
	autoscalingv2beta2 "k8s.io/api/autoscaling/v2beta2"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	certificatesv1alpha1 "k8s.io/api/certificates/v1alpha1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	coordinationv1 "k8s.io/api/coordination/v1"
	coordinationv1alpha2 "k8s.io/api/coordination/v1alpha2"
	coordinationv1beta1 "k8s.io/api/coordination/v1beta1"
	discoveryv1beta1 "k8s.io/api/discovery/v1beta1"
	eventsv1beta1 "k8s.io/api/events/v1beta1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	flowcontrolv1beta1 "k8s.io/api/flowcontrol/v1beta1"
	flowcontrolv1beta2 "k8s.io/api/flowcontrol/v1beta2"
	flowcontrolv1beta3 "k8s.io/api/flowcontrol/v1beta3"
	networkingv1 "k8s.io/api/networking/v1"
	networkingv1beta1 "k8s.io/api/networking/v1beta1"
	nodev1beta1 "k8s.io/api/node/v1beta1"
	policyv1 "k8s.io/api/policy/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"
	rbacv1beta1 "k8s.io/api/rbac/v1beta1"
	resourcev1 "k8s.io/api/resource/v1"
	resourcev1alpha3 "k8s.io/api/resource/v1alpha3"
	resourcev1beta1 "k8s.io/api/resource/v1beta1"
	resourcev1beta2 "k8s.io/api/resource/v1beta2"
	schedulingv1beta1 "k8s.io/api/scheduling/v1beta1"
	storagev1alpha1 "k8s.io/api/storage/v1alpha1"
	storagev1beta1 "k8s.io/api/storage/v1beta1"
	storagemigrationv1alpha1 "k8s.io/api/storagemigration/v1alpha1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
)

// Version is a Kubernetes minor release, such as 1.22.
type Version struct{ Major, Minor int }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// IsZero reports an unknown version.
func (v Version) IsZero() bool { return v == Version{} }

// AtLeast reports whether v is the same release as o or a later one.
func (v Version) AtLeast(o Version) bool {
	return cmp.Or(cmp.Compare(v.Major, o.Major), cmp.Compare(v.Minor, o.Minor)) >= 0
}

// ParseServerVersion reads the minor release out of a server version such as
// "v1.34.2" or "v1.30.1-do.0"; ok is false when it names none.
func ParseServerVersion(s string) (Version, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	majS, rest, ok := strings.Cut(s, ".")
	if !ok {
		return Version{}, false
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end >= 0 {
		rest = rest[:end]
	}
	maj, err1 := strconv.Atoi(majS)
	mnr, err2 := strconv.Atoi(rest)
	if err1 != nil || err2 != nil || rest == "" {
		return Version{}, false
	}
	return Version{maj, mnr}, true
}

// Entry is the lifecycle of one API version of one kind.
type Entry struct {
	GVK        schema.GroupVersionKind
	Deprecated Version
	Removed    Version
	// Replacement is the API version to use instead; empty when the kind
	// has none (PodSecurityPolicy).
	Replacement schema.GroupVersionKind
	// Source says where the dates come from.
	Source string
}

// APIVersion is the entry's group/version as manifests spell it.
func (e Entry) APIVersion() string { return e.GVK.GroupVersion().String() }

// ReplacementAPIVersion is the replacement's group/version, or "".
func (e Entry) ReplacementAPIVersion() string {
	if e.Replacement.Empty() {
		return ""
	}
	return e.Replacement.GroupVersion().String()
}

// Sources of the lifecycle data.
const (
	SourceGenerated = "k8s.io/api prerelease-lifecycle-gen (APILifecycleDeprecated, APILifecycleRemoved, APILifecycleReplacement)"
	SourceGuide     = "Kubernetes Deprecated API Migration Guide, https://kubernetes.io/docs/reference/using-api/deprecation-guide/"
	// derivedReplacement marks a replacement the generated data does not
	// name, found among the kind's other versions.
	derivedReplacement = "replacement: the newest version of the kind in k8s.io/api that is not deprecated"
)

// Table is the lifecycle of every deprecated API version Purser knows.
type Table struct {
	byGVK map[schema.GroupVersionKind]Entry
}

// Lookup returns the lifecycle of the kind at the given apiVersion
// ("extensions/v1beta1"); ok is false when that version of the kind is
// neither deprecated nor removed as far as the table knows.
func (t Table) Lookup(apiVersion, kind string) (Entry, bool) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return Entry{}, false
	}
	e, ok := t.byGVK[gv.WithKind(kind)]
	return e, ok
}

// Entries returns every entry, ordered by group, version and kind.
func (t Table) Entries() []Entry {
	out := make([]Entry, 0, len(t.byGVK))
	for _, e := range t.byGVK {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.GVK.Group, b.GVK.Group), cmp.Compare(a.GVK.Version, b.GVK.Version),
			cmp.Compare(a.GVK.Kind, b.GVK.Kind))
	})
	return out
}

type lifecycle interface {
	APILifecycleDeprecated() (major, minor int)
	APILifecycleRemoved() (major, minor int)
}

type replaced interface {
	APILifecycleReplacement() schema.GroupVersionKind
}

// New builds the table. It is cheap enough to build once per audit; it is
// not kept in a package variable so that nothing is shared between callers.
func New() (Table, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		admissionregistrationv1alpha1.AddToScheme, admissionregistrationv1beta1.AddToScheme,
		appsv1beta1.AddToScheme, appsv1beta2.AddToScheme,
		authenticationv1alpha1.AddToScheme, authenticationv1beta1.AddToScheme, authorizationv1beta1.AddToScheme,
		autoscalingv2beta1.AddToScheme, autoscalingv2beta2.AddToScheme, batchv1beta1.AddToScheme,
		certificatesv1alpha1.AddToScheme, certificatesv1beta1.AddToScheme,
		coordinationv1alpha2.AddToScheme, coordinationv1beta1.AddToScheme,
		discoveryv1beta1.AddToScheme, eventsv1beta1.AddToScheme, extensionsv1beta1.AddToScheme,
		flowcontrolv1beta1.AddToScheme, flowcontrolv1beta2.AddToScheme, flowcontrolv1beta3.AddToScheme,
		networkingv1beta1.AddToScheme, nodev1beta1.AddToScheme, policyv1beta1.AddToScheme, rbacv1beta1.AddToScheme,
		resourcev1alpha3.AddToScheme, resourcev1beta1.AddToScheme, resourcev1beta2.AddToScheme,
		schedulingv1beta1.AddToScheme, storagev1alpha1.AddToScheme, storagev1beta1.AddToScheme,
		storagemigrationv1alpha1.AddToScheme,
		// The current versions of the groups above whose prerelease
		// types name no replacement: what they graduated to.
		admissionregistrationv1.AddToScheme, authenticationv1.AddToScheme, coordinationv1.AddToScheme,
		networkingv1.AddToScheme, policyv1.AddToScheme, resourcev1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return Table{}, fmt.Errorf("registering API types for their lifecycle: %w", err)
		}
	}
	t := Table{byGVK: map[schema.GroupVersionKind]Entry{}}
	for gvk := range s.AllKnownTypes() {
		if strings.HasSuffix(gvk.Kind, "List") || gvk.Version == runtime.APIVersionInternal {
			continue
		}
		o, err := s.New(gvk)
		if err != nil {
			return Table{}, fmt.Errorf("creating %s to read its lifecycle: %w", gvk, err)
		}
		lc, ok := o.(lifecycle)
		if !ok {
			continue
		}
		e := Entry{GVK: gvk, Source: SourceGenerated}
		e.Deprecated.Major, e.Deprecated.Minor = lc.APILifecycleDeprecated()
		e.Removed.Major, e.Removed.Minor = lc.APILifecycleRemoved()
		if r, ok := o.(replaced); ok {
			e.Replacement = r.APILifecycleReplacement()
		}
		if e.Deprecated.IsZero() && e.Removed.IsZero() {
			continue
		}
		t.byGVK[gvk] = e
	}
	for _, e := range older() {
		// The generated data wins where both know a kind: it is the
		// API machinery's own record.
		if _, ok := t.byGVK[e.GVK]; !ok {
			t.byGVK[e.GVK] = e
		}
	}
	for from, to := range missingReplacements() {
		if e, ok := t.byGVK[from]; ok && e.Replacement.Empty() {
			e.Replacement = to
			e.Source += "; replacement from the " + SourceGuide
			t.byGVK[from] = e
		}
	}
	// Prerelease types often name no replacement although the kind has
	// graduated since (ValidatingAdmissionPolicy v1beta1 to v1): the
	// newest version of the same kind that is not deprecated replaces it.
	for gvk, e := range t.byGVK {
		if !e.Replacement.Empty() {
			continue
		}
		for known := range s.AllKnownTypes() {
			if known.Group != gvk.Group || known.Kind != gvk.Kind || known.Version == runtime.APIVersionInternal {
				continue
			}
			if _, deprecated := t.byGVK[known]; deprecated {
				continue
			}
			if e.Replacement.Empty() || version.CompareKubeAwareVersionStrings(known.Version, e.Replacement.Version) > 0 {
				e.Replacement = known
			}
		}
		if !e.Replacement.Empty() {
			e.Source += "; " + derivedReplacement
		}
		t.byGVK[gvk] = e
	}
	// A generated replacement can itself be deprecated since (flowcontrol
	// v1beta1 names v1beta3, removed in 1.32): advising a move to another
	// doomed version helps nobody, so follow the chain to its end.
	for gvk, e := range t.byGVK {
		seen := map[schema.GroupVersionKind]bool{gvk: true}
		for {
			next, ok := t.byGVK[e.Replacement]
			if !ok || next.Replacement.Empty() || seen[next.Replacement] {
				break
			}
			seen[next.Replacement] = true
			e.Replacement = next.Replacement
		}
		t.byGVK[gvk] = e
	}
	return t, nil
}

// missingReplacements names, from the deprecation guide, the replacement of
// generated entries that record none.
func missingReplacements() map[schema.GroupVersionKind]schema.GroupVersionKind {
	return map[schema.GroupVersionKind]schema.GroupVersionKind{
		{Group: "node.k8s.io", Version: "v1beta1", Kind: "RuntimeClass"}: {Group: "node.k8s.io", Version: "v1", Kind: "RuntimeClass"},
		{Group: "events.k8s.io", Version: "v1beta1", Kind: "Event"}:      {Group: "events.k8s.io", Version: "v1", Kind: "Event"},
	}
}

// older lists removals whose types k8s.io/api no longer ships (or never
// shipped there), from the Kubernetes deprecation guide.
func older() []Entry {
	gvk := func(gv, kind string) schema.GroupVersionKind {
		g, v, ok := strings.Cut(gv, "/")
		if !ok {
			return schema.GroupVersionKind{Version: g, Kind: kind}
		}
		return schema.GroupVersionKind{Group: g, Version: v, Kind: kind}
	}
	e := func(gv, kind string, dep, rem int, repl string) Entry {
		x := Entry{GVK: gvk(gv, kind), Deprecated: Version{1, dep}, Removed: Version{1, rem}, Source: SourceGuide}
		if repl != "" {
			x.Replacement = gvk(repl, kind)
		}
		return x
	}
	return []Entry{
		// v1.16: PodSecurityPolicy moved from extensions to policy.
		e("extensions/v1beta1", "PodSecurityPolicy", 11, 16, "policy/v1beta1"),
		// v1.22.
		e("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", 16, 22, "apiextensions.k8s.io/v1"),
		e("apiregistration.k8s.io/v1beta1", "APIService", 19, 22, "apiregistration.k8s.io/v1"),
		// v1.25: PodSecurityPolicy is gone, replaced by Pod Security
		// Admission rather than by another version of the kind.
		e("policy/v1beta1", "PodSecurityPolicy", 21, 25, ""),
	}
}
