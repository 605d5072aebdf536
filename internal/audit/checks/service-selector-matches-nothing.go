package checks

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

const serviceSelectorID = "service-selector-matches-nothing"

func serviceSelectorMatchesNothing() audit.Check {
	return ruleCheck{
		id:        serviceSelectorID,
		reads:     readsOf(kServices, kPods, kDeployments, kStatefulSets, kDaemonSets, kReplicaSets, kJobs, kCronJobs),
		manifests: audit.RunsOnManifests(),
		category:  audit.Availability,
		severity:  audit.Error,
		description: "On manifests, a Service whose selector matches the pod template of no workload in its namespace " +
			"(nor, with --cluster, a pod the cluster already runs there): once applied, it gets no endpoint and every " +
			"connection to it is refused. The finding names the nearest template and the labels that differ, such as " +
			"Helm's `app.kubernetes.io/name` against a hand-written `app`, and the edit of the Service's file that makes " +
			"it match. On a cluster, service-no-endpoints answers the same question from the endpoints themselves, so " +
			"this check reports nothing there. Selectorless and ExternalName Services are skipped.",
		run: runServiceSelectorMatchesNothing,
	}
}

// podTemplate is the labels pods of one workload get, or the labels of one
// pod that no workload in the snapshot makes.
type podTemplate struct {
	owner  snapshot.Ref
	labels map[string]string
}

func runServiceSelectorMatchesNothing(c ruleCheck, in *audit.Input) []audit.Finding {
	if in.Mode != audit.ModeManifests {
		return nil
	}
	ix := in.Index
	var out []audit.Finding
	byNS := podTemplates(ix)
	for i := range ix.S.Services {
		svc := &ix.S.Services[i]
		if len(svc.Spec.Selector) == 0 || svc.Spec.Type == corev1.ServiceTypeExternalName || snapshot.IsBuiltin(svc) {
			continue
		}
		tpls := byNS[svc.Namespace]
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		matched := false
		for _, t := range tpls {
			if sel.Matches(labels.Set(t.labels)) {
				matched = true
				break
			}
		}
		if !matched {
			out = append(out, selectorFinding(c, in, svc, tpls))
		}
	}
	return out
}

// podTemplates lists, by namespace, what pods look like once the
// manifests land: each workload's pod template, and each pod whose
// controller is not a workload of the snapshot (a pod of a workload is
// judged by its template, which the manifests may have changed).
func podTemplates(ix *snapshot.Index) map[string][]podTemplate {
	out := map[string][]podTemplate{}
	add := func(kind, ns, name string, l map[string]string) {
		out[ns] = append(out[ns], podTemplate{owner: ref(kind, ns, name), labels: l})
	}
	s := ix.S
	for i := range s.Deployments {
		d := &s.Deployments[i]
		add("Deployment", d.Namespace, d.Name, d.Spec.Template.Labels)
	}
	for i := range s.StatefulSets {
		o := &s.StatefulSets[i]
		add("StatefulSet", o.Namespace, o.Name, o.Spec.Template.Labels)
	}
	for i := range s.DaemonSets {
		o := &s.DaemonSets[i]
		add("DaemonSet", o.Namespace, o.Name, o.Spec.Template.Labels)
	}
	for i := range s.ReplicaSets {
		if o := &s.ReplicaSets[i]; len(o.OwnerReferences) == 0 {
			add("ReplicaSet", o.Namespace, o.Name, o.Spec.Template.Labels)
		}
	}
	for i := range s.Jobs {
		if o := &s.Jobs[i]; len(o.OwnerReferences) == 0 {
			add("Job", o.Namespace, o.Name, o.Spec.Template.Labels)
		}
	}
	for i := range s.CronJobs {
		o := &s.CronJobs[i]
		add("CronJob", o.Namespace, o.Name, o.Spec.JobTemplate.Spec.Template.Labels)
	}
	for i := range s.Pods {
		p := &s.Pods[i]
		if podTerminal(p) {
			continue
		}
		if w := workloadOf(ix, p); w.Kind == "Pod" || ix.Object(w) == nil {
			add("Pod", p.Namespace, p.Name, p.Labels)
		}
	}
	return out
}

// selectorFinding explains a selector no template matches: the nearest
// template under the other label convention, else the closest by shared
// keys, and the edit of the Service's manifest.
func selectorFinding(c ruleCheck, in *audit.Input, svc *corev1.Service, tpls []podTemplate) audit.Finding {
	ix := in.Index
	r := objRef("Service", svc)
	sel := labelsText(svc.Spec.Selector)
	where := "the manifests"
	if in.Cluster != "" {
		where = "the manifests or the cluster"
	}
	f := c.finding(r, fmt.Sprintf("Service %s/%s would select no pod: no pod template in %s matches its selector %s",
		svc.Namespace, svc.Name, where, sel))
	f.Evidence = []string{"selector " + sel}
	if len(tpls) == 0 {
		f.Cause = fmt.Sprintf("Namespace %s has no workload in %s: once applied, the Service has no endpoint and refuses every connection.",
			svc.Namespace, where)
		f.Evidence = append(f.Evidence, "no workload or pod in namespace "+svc.Namespace)
		if in.Cluster == "" {
			// The workload may ship from another repository into a
			// cluster these manifests do not show.
			f.Severity = audit.Warning
			f.Cause = fmt.Sprintf("The manifests hold no workload in namespace %s, so the Service selects nothing among them; "+
				"whether pods already run there cannot be known without a cluster (--cluster, or --cluster-from a snapshot).", svc.Namespace)
		}
		f.Remediation = audit.Remediation{Text: fmt.Sprintf("Ship the workload this Service fronts with it (in namespace %s), "+
			"or remove the Service from %s.", svc.Namespace, manifestPlace(ix, r))}
		return f
	}
	near, corrected, ok := nearestTemplate(svc, tpls)
	f.Evidence = append(f.Evidence,
		fmt.Sprintf("nearest pod template: %s, labels %s", near.owner, labelsText(identityLabels(near.labels))),
		"differs: "+strings.Join(labelDiff(svc.Spec.Selector, near.labels), "; "))
	if ok {
		f.Cause = fmt.Sprintf("The pods of %s carry %s: the Service and the pods use different label conventions (Helm's "+
			"app.kubernetes.io/* labels against hand-written ones), so the selector matches nothing and the Service gets no endpoint.",
			near.owner, labelsText(identityLabels(near.labels)))
		text := fmt.Sprintf("In %s, replace the Service's spec.selector %s with %s (remove the keys the pods do not carry; "+
			"adding keys would keep the wrong ones).", manifestPlace(ix, r), sel, labelsText(corrected))
		if rel, helm := isHelmManaged(svc); helm {
			text += fmt.Sprintf(" The Service is rendered by the Helm release %q: change the chart's selector labels in its "+
				"values or templates, not the rendered output, or give the pod template of %s the labels %s.", rel, near.owner, sel)
		}
		f.Remediation = audit.Remediation{Text: text}
		return f
	}
	f.Cause = fmt.Sprintf("No pod template in namespace %s carries %s, and none would under the other label convention: "+
		"the selector names a workload that is not shipped, was renamed, or runs in another namespace.", svc.Namespace, sel)
	f.Remediation = audit.Remediation{Text: fmt.Sprintf("In %s, set the Service's spec.selector to labels the pod template "+
		"of the workload it fronts carries (the nearest is %s, %s), or ship that workload.", manifestPlace(ix, r), near.owner,
		labelsText(identityLabels(near.labels)))}
	return f
}

// nearestTemplate returns the template the selector matches under the
// other label convention, with the corrected selector (ok), else the one
// sharing the most selector labels. A template named like the Service
// wins ties.
func nearestTemplate(svc *corev1.Service, tpls []podTemplate) (podTemplate, map[string]string, bool) {
	type cand struct {
		t         podTemplate
		corrected map[string]string
		shared    int
	}
	var cands []cand
	for _, t := range tpls {
		cd := cand{t: t}
		cd.corrected, _ = correctSelector(svc.Spec.Selector, t.labels)
		for k, v := range svc.Spec.Selector {
			if t.labels[k] == v {
				cd.shared++
			}
		}
		cands = append(cands, cd)
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if (a.corrected != nil) != (b.corrected != nil) {
			return a.corrected != nil
		}
		if (a.t.owner.Name == svc.Name) != (b.t.owner.Name == svc.Name) {
			return a.t.owner.Name == svc.Name
		}
		if a.shared != b.shared {
			return a.shared > b.shared
		}
		return a.t.owner.String() < b.t.owner.String()
	})
	best := cands[0]
	return best.t, best.corrected, best.corrected != nil
}

// labelDiff says, key by key, how the selector differs from a template's
// labels.
func labelDiff(sel, tpl map[string]string) []string {
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	conv := conventions()
	var out []string
	for _, k := range keys {
		v := sel[k]
		tv, has := tpl[k]
		switch {
		case has && tv == v:
			continue
		case has:
			out = append(out, fmt.Sprintf("%s=%s (the template has %s=%s)", k, v, k, tv))
		default:
			d := fmt.Sprintf("%s=%s (the template has no %s", k, v, k)
			for _, alt := range conv[k] {
				if av, ok := tpl[alt]; ok {
					d += fmt.Sprintf("; it has %s=%s", alt, av)
					break
				}
			}
			out = append(out, d+")")
		}
	}
	return out
}

// manifestPlace names where a person edits an object (audit.EditPlace).
func manifestPlace(ix *snapshot.Index, r snapshot.Ref) string { return audit.EditPlace(ix, r) }
