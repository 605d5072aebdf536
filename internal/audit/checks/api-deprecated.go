package checks

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
		id:       "api-deprecated",
		reads:    readsOf(reads...),
		category: audit.Hygiene,
		severity: audit.Warning,
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
			"(https://kubernetes.io/docs/reference/using-api/deprecation-guide/).",
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
			e, ok := table.Lookup(v, ref.Kind)
			if !ok {
				continue
			}
			out = append(out, deprecatedFinding(c, ref, e, byVersion[v], cluster, known))
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
	// which says nothing about how they were written.
	if !strings.HasPrefix(ix.S.Meta.Source, "live:") {
		for _, r := range ix.S.Others {
			gv := r.Version
			if r.Group != "" {
				gv = r.Group + "/" + r.Version
			}
			report(snapshot.Ref{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}, []apiUse{{apiVersion: gv,
				line: "declared as " + gv + " in its file (the manifest's own apiVersion; high confidence)"}})
		}
	}
	return out
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
	how := "uses"
	switch {
	case strings.HasPrefix(uses[0].line, "written"):
		how = "was written through"
	case strings.HasPrefix(uses[0].line, "last applied"):
		how = "was last applied with"
	case strings.HasPrefix(uses[0].line, "declared"):
		how = "is declared as"
	}
	f := c.newFinding(ref, fmt.Sprintf("%s %s %s %s, %s", ref.Kind, name, how, e.APIVersion(), state))
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
		f.Remediation = audit.Remediation{Text: fmt.Sprintf("%s has no replacement version: remove the object from %s "+
			"and use what the deprecation guide names instead (for PodSecurityPolicy, Pod Security Admission labels on "+
			"the namespace).", e.APIVersion()+" "+ref.Kind, who)}
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
