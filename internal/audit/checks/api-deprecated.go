package checks

import (
	"fmt"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/purserhq/purser/internal/apilifecycle"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

func apiDeprecated() audit.Check {
	reads := []string{audit.EveryNamespacedKind}
	for _, k := range snapshot.ModelledKinds() {
		reads = append(reads, k.GroupResource())
	}
	return checkSpec{
		id:    "api-deprecated",
		reads: readsOf(reads...),
		// A manifest declares its apiVersion: finding the old ones before
		// they ship is what CI wants of this check.
		manifests: audit.RunsOnManifests(),
		category:  audit.Hygiene,
		severity:  audit.Warning,
		description: "An object written through, last applied with, or declared in a deprecated or removed API version " +
			"(`extensions/v1beta1` Ingress, `policy/v1beta1` PodDisruptionBudget, `autoscaling/v2beta2` " +
			"HorizontalPodAutoscaler…). The server converts what is stored, so the object still works, but the manifest, " +
			"chart or controller that wrote it still uses the old version and will fail once the cluster is upgraded past " +
			"the removal. The evidence says where the version was seen and how sure that is: a managed-fields entry " +
			"records a write through it (reads leave no trace, so an object merely read through an old version is never " +
			"reported); kubectl's last-applied configuration records the last client-side apply, which another tool may " +
			"have superseded; a file's own apiVersion is what it declares. A warning while the API is only deprecated, an " +
			"error when the cluster's version (from the snapshot) has already removed it. The lifecycle comes from " +
			"k8s.io/api's generated prerelease-lifecycle data and, for older removals, the Kubernetes deprecation guide " +
			"(https://kubernetes.io/docs/reference/using-api/deprecation-guide/); docs/api-lifecycle.md lists every entry with its " +
			"source. Custom resources are reported when written through, or declared in, a version their " +
			"CustomResourceDefinition marks `deprecated: true`, with its deprecation warning. When the API server's " +
			"/metrics is readable, its apiserver_requested_deprecated_apis gauge says which deprecated APIs clients " +
			"still call (an object of kind APIResource, such as `flowschemas.v1beta3.flowcontrol.apiserver.k8s.io`): a " +
			"warning for a planned removal or a deprecated custom resource version, an error once this cluster has " +
			"removed it; deprecated versions Kubernetes keeps serving (v1 Endpoints, ComponentStatus), which the " +
			"control plane calls itself, are not reported. The metric does not name the caller, the audit log does.",
		run: runAPIDeprecated,
	}
}

// apiUse is one piece of evidence of an API version used for an object.
type apiUse struct {
	apiVersion string
	line       string
	manager    string
}

func runAPIDeprecated(c checkSpec, ix *snapshot.Index, _ *audit.Config) []audit.Finding {
	table, err := apilifecycle.New()
	if err != nil {
		// The table is built from compiled-in types; it cannot fail
		// unless the build itself is broken, which every test shows.
		return nil
	}
	cluster, known := apilifecycle.ParseServerVersion(ix.S.Meta.ServerVersion)
	var out []audit.Finding
	report := func(ref snapshot.Ref, uses []apiUse) {
		byVersion := map[string][]apiUse{}
		var versions []string
		for _, u := range uses {
			if _, ok := byVersion[u.apiVersion]; !ok {
				versions = append(versions, u.apiVersion)
			}
			byVersion[u.apiVersion] = append(byVersion[u.apiVersion], u)
		}
		slices.Sort(versions)
		for _, v := range versions {
			if e, ok := table.Lookup(v, ref.Kind); ok {
				out = append(out, deprecatedFinding(c, ref, e, byVersion[v], cluster, known))
			} else if crd, ver, ok := crdVersion(ix.S, v, ref.Kind); ok && ver.Deprecated {
				out = append(out, crdDeprecatedFinding(c, ref, crd, ver, byVersion[v]))
			}
		}
	}
	for _, k := range snapshot.ModelledKinds() {
		stored := k.Resource().GroupVersion()
		k.Each(ix.S, func(o metav1.Object) {
			var uses []apiUse
			for _, u := range snapshot.WrittenAPIVersions(o, stored) {
				uses = append(uses, useLine(u))
			}
			if len(uses) > 0 {
				report(objRef(k.Name(), o), uses)
			}
		})
	}
	// A file's objects in a version the snapshot does not model are kept
	// as references with the version they declare; a live snapshot's
	// references carry the version they were listed through instead,
	// which says nothing about how they were written, and the versions
	// their managed fields record writes through.
	live := strings.HasPrefix(ix.S.Meta.Source, "live:")
	for _, r := range ix.S.Others {
		var uses []apiUse
		if gv := (schema.GroupVersion{Group: r.Group, Version: r.Version}).String(); !live {
			uses = append(uses, apiUse{apiVersion: gv,
				line: "declared as " + gv + " in its file (the manifest's own apiVersion; high confidence)"})
		}
		for _, v := range r.WrittenThrough {
			uses = append(uses, apiUse{apiVersion: v,
				line: "written through " + v + " (managedFields: a recorded write; high confidence)"})
		}
		if len(uses) > 0 {
			report(snapshot.Ref{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}, uses)
		}
	}
	if reqs := ix.S.Meta.DeprecatedRequests; reqs != nil {
		for _, r := range *reqs {
			if f, ok := requestedFinding(c, ix.S, table, r, cluster, known); ok {
				out = append(out, f)
			}
		}
	}
	return out
}

// requestedFinding reports a deprecated API that clients still call, from
// the API server's own count. The object is the API resource in that
// version ("endpoints.v1", "widgets.v1alpha1.example.purser.dev", as
// kubectl names a resource fully), since no stored object is involved.
//
// A deprecated version nothing will remove is not reported: Kubernetes
// keeps serving its GA core versions (v1 Endpoints, ComponentStatus), and
// the control plane itself still calls them, so such a finding could never
// be cleared. Only a planned removal, a removal the lifecycle table knows,
// or a deprecated custom resource version makes a caller worth finding.
func requestedFinding(c checkSpec, s *snapshot.Snapshot, table apilifecycle.Table, r snapshot.DeprecatedAPIRequest,
	cluster apilifecycle.Version, known bool) (audit.Finding, bool) {
	gv := schema.GroupVersion{Group: r.Group, Version: r.Version}
	name := r.Resource + "." + r.Version
	if r.Group != "" {
		name += "." + r.Group
	}
	what := r.Resource
	if r.Subresource != "" {
		what += "/" + r.Subresource
	}
	series := fmt.Sprintf("apiserver_requested_deprecated_apis{group=%q,version=%q,resource=%q,subresource=%q,removed_release=%q}",
		r.Group, r.Version, r.Resource, r.Subresource, r.RemovedRelease)
	f := c.newFinding(snapshot.Ref{Kind: "APIResource", Name: name}, fmt.Sprintf("Clients still call %s in %s, which is deprecated",
		what, gv))
	f.Severity = audit.Info
	f.Evidence = []string{series + " is set: some client requested it since the API server started (source: apiserver " +
		"metric; high confidence that it was called; the metric does not name the caller)"}
	replacement := ""
	removable := r.RemovedRelease != ""
	if e, ok := lifecycleOfResource(table, gv, r.Resource); ok {
		removable = removable || !e.Removed.IsZero()
		f.Severity = audit.Warning
		if repl := e.ReplacementAPIVersion(); repl != "" {
			replacement = repl
		}
		f.Evidence = append(f.Evidence, fmt.Sprintf("%s %s: deprecated in %s, removed in %s (source: %s)",
			e.APIVersion(), e.GVK.Kind, orUnknown(e.Deprecated), orUnknown(e.Removed), e.Source))
		if known && !e.Removed.IsZero() && cluster.AtLeast(e.Removed) {
			f.Severity = audit.Error
		}
	}
	for i := range s.CRDs {
		crd := &s.CRDs[i]
		if crd.Spec.Group != r.Group || crd.Spec.Names.Plural != r.Resource {
			continue
		}
		f.Severity = audit.Warning
		removable = true
		for _, v := range crd.Spec.Versions {
			switch {
			case v.Name == r.Version && v.DeprecationWarning != nil:
				f.Evidence = append(f.Evidence, "CustomResourceDefinition "+crd.Name+" warns: "+*v.DeprecationWarning)
			case v.Name != r.Version && v.Served && !v.Deprecated && replacement == "":
				replacement = crd.Spec.Group + "/" + v.Name
			}
		}
	}
	if !removable {
		return audit.Finding{}, false
	}
	if r.RemovedRelease != "" {
		f.Message += ", and removed in Kubernetes " + r.RemovedRelease
		if f.Severity == audit.Info {
			f.Severity = audit.Warning
		}
	}
	if replacement != "" {
		f.Message += "; use " + replacement
	}
	f.Cause = "A client (a controller, an operator, a script or a person with kubectl) still requests " + gv.String() + " " +
		what + ". It works until the version is removed; then that client fails. The API server counts the requests but " +
		"not who made them."
	f.Remediation = audit.Remediation{Text: "Find the caller in the API server's audit log: its events for these requests " +
		"carry the annotation k8s.io/deprecated: \"true\" with the user and userAgent. Move that client to " +
		replacementOrNone(replacement) + ". The gauge resets only when the API server restarts."}
	return f, true
}

// lifecycleOfResource finds the lifecycle entry of a resource by its
// plural name, which the metric gives instead of the kind.
func lifecycleOfResource(table apilifecycle.Table, gv schema.GroupVersion, resource string) (apilifecycle.Entry, bool) {
	for _, e := range table.Entries() {
		if e.GVK.GroupVersion() != gv {
			continue
		}
		k := strings.ToLower(e.GVK.Kind)
		switch resource {
		case k + "s", k + "es", strings.TrimSuffix(k, "y") + "ies":
			return e, true
		}
	}
	return apilifecycle.Entry{}, false
}

// crdVersion finds the version of the CustomResourceDefinition that defines
// the kind at apiVersion.
func crdVersion(s *snapshot.Snapshot, apiVersion, kind string) (*apiextensionsv1.CustomResourceDefinition,
	apiextensionsv1.CustomResourceDefinitionVersion, bool) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, apiextensionsv1.CustomResourceDefinitionVersion{}, false
	}
	for i := range s.CRDs {
		crd := &s.CRDs[i]
		if crd.Spec.Group != gv.Group || crd.Spec.Names.Kind != kind {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if v.Name == gv.Version {
				return crd, v, true
			}
		}
	}
	return nil, apiextensionsv1.CustomResourceDefinitionVersion{}, false
}

// crdDeprecatedFinding reports an object of a custom resource written
// through, or declared in, a version its definition marks deprecated.
func crdDeprecatedFinding(c checkSpec, ref snapshot.Ref, crd *apiextensionsv1.CustomResourceDefinition,
	v apiextensionsv1.CustomResourceDefinitionVersion, uses []apiUse) audit.Finding {
	name := ref.Name
	if ref.Namespace != "" {
		name = ref.Namespace + "/" + ref.Name
	}
	apiVersion := crd.Spec.Group + "/" + v.Name
	var current []string
	for _, o := range crd.Spec.Versions {
		if o.Served && !o.Deprecated {
			current = append(current, crd.Spec.Group+"/"+o.Name)
		}
	}
	f := c.newFinding(ref, fmt.Sprintf("%s %s %s %s, a version its CustomResourceDefinition %s marks deprecated",
		ref.Kind, name, usedHow(uses), apiVersion, crd.Name))
	if len(current) > 0 {
		f.Message += "; use " + current[0]
	}
	for _, u := range uses {
		f.Evidence = append(f.Evidence, u.line)
	}
	warning := "none given"
	if v.DeprecationWarning != nil && *v.DeprecationWarning != "" {
		warning = *v.DeprecationWarning
	}
	f.Evidence = append(f.Evidence, fmt.Sprintf("CustomResourceDefinition %s: version %s deprecated (served: %t), warning: %s; "+
		"versions served and not deprecated: %s", crd.Name, v.Name, v.Served, warning, replacementOrNone(strings.Join(current, ", "))))
	f.Cause = "The CustomResourceDefinition " + crd.Name + " deprecates " + apiVersion + "; its owner may stop serving it " +
		"in a later release of the operator or chart that installs it, and then writing through it fails."
	if len(current) > 0 {
		f.Remediation = audit.Remediation{Text: fmt.Sprintf("Move its manifests, charts and the tools that write it from %s "+
			"to %s before upgrading what installs %s; the API server's warning says: %s", apiVersion, current[0], crd.Name, warning)}
	} else {
		f.Remediation = audit.Remediation{Text: fmt.Sprintf("%s serves no version that is not deprecated: ask the owner of "+
			"%s which version replaces %s; the API server's warning says: %s", crd.Name, crd.Name, apiVersion, warning)}
	}
	return f
}

// usedHow says how the strongest piece of evidence used the version.
func usedHow(uses []apiUse) string {
	for _, prefix := range []struct{ line, how string }{
		{"written", "was written through"}, {"last applied", "was last applied with"}, {"declared", "is declared as"},
	} {
		for _, u := range uses {
			if strings.HasPrefix(u.line, prefix.line) {
				return prefix.how
			}
		}
	}
	return "uses"
}

func useLine(u snapshot.APIVersionUse) apiUse {
	switch u.Source {
	case snapshot.LastAppliedWith:
		return apiUse{apiVersion: u.APIVersion, line: "last applied with " + u.APIVersion +
			" (kubectl's last-applied-configuration annotation; medium confidence: a later server-side apply or edit " +
			"through another version leaves it unchanged)"}
	default:
		line := "written through " + u.APIVersion + " by " + u.Manager
		how := u.Operation
		if u.Subresource != "" {
			how += " of the " + u.Subresource + " subresource"
		}
		if how != "" {
			line += " (" + how + ")"
		}
		if u.Time != nil {
			line += " at " + u.Time.UTC().Format("2006-01-02T15:04:05Z")
		}
		line += " (managedFields: a recorded write; high confidence)"
		return apiUse{apiVersion: u.APIVersion, line: line, manager: u.Manager}
	}
}

func deprecatedFinding(c checkSpec, ref snapshot.Ref, e apilifecycle.Entry, uses []apiUse,
	cluster apilifecycle.Version, known bool) audit.Finding {
	name := ref.Name
	if ref.Namespace != "" {
		name = ref.Namespace + "/" + ref.Name
	}
	removed := known && !e.Removed.IsZero() && cluster.AtLeast(e.Removed)
	var state string
	switch {
	case removed:
		state = fmt.Sprintf("removed in Kubernetes %s, and this cluster runs %s", e.Removed, cluster)
	case !e.Removed.IsZero():
		state = fmt.Sprintf("deprecated since Kubernetes %s and removed in %s", e.Deprecated, e.Removed)
	default:
		state = fmt.Sprintf("deprecated since Kubernetes %s", e.Deprecated)
	}
	f := c.newFinding(ref, fmt.Sprintf("%s %s %s %s, %s", ref.Kind, name, usedHow(uses), e.APIVersion(), state))
	if removed {
		f.Severity = audit.Error
	}
	repl := e.ReplacementAPIVersion()
	if repl != "" {
		f.Message += "; use " + repl
	}
	var managers []string
	for _, u := range uses {
		f.Evidence = append(f.Evidence, u.line)
		if u.manager != "" && !slices.Contains(managers, u.manager) {
			managers = append(managers, u.manager)
		}
	}
	f.Evidence = append(f.Evidence, fmt.Sprintf("%s %s: deprecated in %s, removed in %s, replaced by %s (source: %s)",
		e.APIVersion(), ref.Kind, orUnknown(e.Deprecated), orUnknown(e.Removed), replacementOrNone(repl), e.Source))
	if removed {
		f.Cause = "The API server no longer serves " + e.APIVersion() + "; the object survives because the server " +
			"converted it when it was stored, but whatever wrote it through that version now fails."
	} else {
		f.Cause = "Its manifest, chart or controller still uses " + e.APIVersion() + ", which the API server stops " +
			"serving in Kubernetes " + orUnknown(e.Removed) + "; from then on, applying it fails."
	}
	who := "its manifests and charts"
	if len(managers) > 0 {
		who += " and the tools that write it (" + strings.Join(managers, ", ") + ")"
	}
	when := "before upgrading the cluster to " + orUnknown(e.Removed)
	if removed {
		when = "now"
	}
	switch {
	case repl != "":
		f.Remediation = audit.Remediation{Text: fmt.Sprintf("Move %s from %s to %s %s; "+
			"check the fields that changed between the versions (the deprecation guide lists them), for example with "+
			"`kubectl convert --output-version %s` (the kubectl-convert plugin).", who, e.APIVersion(), repl, when, repl)}
	default:
		f.Remediation = audit.Remediation{Text: fmt.Sprintf("%s %s has no replacement version yet: remove the object from %s, "+
			"or move it to the version its release notes name, %s.", e.APIVersion(), ref.Kind, who, when)}
	}
	return f
}

func orUnknown(v apilifecycle.Version) string {
	if v.IsZero() {
		return "an unannounced release"
	}
	return v.String()
}

func replacementOrNone(s string) string {
	if s == "" {
		return "no other version"
	}
	return s
}
