package checks

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

func serviceNoEndpoints() audit.Check {
	return checkSpec{
		id:        serviceNoEndpointsID,
		reads:     readsOf(kServices, kEndpointSlices, kPods, kDeployments, kStatefulSets),
		manifests: audit.NeedsCluster("needs a cluster: endpoints exist only once pods run and pass their readiness probes"),
		category:  audit.Availability,
		severity:  audit.Error,
		description: "A Service with a selector and no ready endpoint: every connection to it is refused. The check " +
			"says why: no pod matches the selector at all; pods match but none is Ready; pods would match if the " +
			"selector used the other label convention (Helm's `app.kubernetes.io/name` against a hand-written `app`, " +
			"and the like); or the Service's named target port does not exist on the pods. For a label mismatch " +
			"the remediation is the exact `kubectl patch` that replaces the wrong selector keys (a merge patch that " +
			"only adds keys keeps the wrong ones and still matches nothing), with the pods it would select, and a " +
			"warning when Helm would revert it. Selectorless and ExternalName Services are skipped.",
		run: runServiceNoEndpoints,
	}
}

func runServiceNoEndpoints(c checkSpec, ix *snapshot.Index, _ *audit.Config) []audit.Finding {
	s := ix.S
	// A snapshot without any EndpointSlice (a kubectl export of pods and
	// services only) cannot show endpoints: judge from the pods then.
	slicesKnown := len(s.EndpointSlices) > 0
	var out []audit.Finding
	for i := range s.Services {
		svc := &s.Services[i]
		if len(svc.Spec.Selector) == 0 || svc.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		if slicesKnown && ix.ReadyEndpoints(svc.Namespace, svc.Name) > 0 {
			continue
		}
		if f, ok := diagnoseService(c, ix, svc, slicesKnown); ok {
			out = append(out, f)
		}
	}
	return out
}

func diagnoseService(c checkSpec, ix *snapshot.Index, svc *corev1.Service, slicesKnown bool) (audit.Finding, bool) {
	r := objRef("Service", svc)
	sel := labelsText(svc.Spec.Selector)
	var matched, ready []*corev1.Pod
	for _, p := range ix.PodsMatching(svc.Namespace, svc.Spec.Selector) {
		if podTerminal(p) {
			continue
		}
		matched = append(matched, p)
		if podReady(p) {
			ready = append(ready, p)
		}
	}
	f := c.newFinding(r, fmt.Sprintf("Service %s/%s has no ready endpoints", svc.Namespace, svc.Name))
	f.Evidence = append(f.Evidence, "selector "+sel)
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		f.Evidence = append(f.Evidence, "type LoadBalancer: the provider bills the load balancer although it has nothing to send traffic to")
	}
	switch {
	case len(matched) == 0:
		return noPodMatches(f, ix, svc), true

	case len(ready) == 0:
		f.Cause = fmt.Sprintf("%d %s the selector but none is Ready, so the endpoint controller lists none of them.",
			len(matched), podsWord(len(matched), "pod matches", "pods match"))
		for _, p := range matched {
			f.Evidence = append(f.Evidence, fmt.Sprintf("pod %s: %s, %d restarts (%s)", p.Name, snapshot.PodStatusPhrase(p),
				restarts(p), workloadOf(ix, p)))
		}
		f.Remediation = audit.Remediation{
			Text: "The selector is right; the pods are not healthy. Fix the pods (see the pod-crashloop and pod-pending findings " +
				"about them) and the Service gets its endpoints back by itself.",
			Command: fmt.Sprintf("kubectl describe pods%s -l %s", nsArg(svc.Namespace), selectorOf(svc.Spec.Selector)),
		}
		return f, true
	}

	if bad := missingTargetPorts(svc, ready); len(bad) > 0 {
		f.Cause = fmt.Sprintf("%d ready %s the selector, but the Service targets %s, which the pods do not declare: "+
			"the endpoint controller leaves out pods without a port of that name.", len(ready),
			podsWord(len(ready), "pod matches", "pods match"), strings.Join(bad, " and "))
		f.Evidence = append(f.Evidence, "pod ports: "+podPortsText(ready[0]))
		f.Remediation = fixTargetPort(svc, ready[0])
		return f, true
	}
	if !slicesKnown {
		return audit.Finding{}, false // ready pods with the right ports: the controller will list them
	}
	f.Severity = audit.Warning
	f.Cause = fmt.Sprintf("%d ready %s the selector and the ports agree, yet no EndpointSlice lists a ready endpoint: "+
		"the endpoint-slice controller is behind or not running, or the Service sets publishNotReadyAddresses differently.",
		len(ready), podsWord(len(ready), "pod matches", "pods match"))
	f.Remediation = audit.Remediation{
		Text:    "Check kube-controller-manager's endpoint-slice controller and the slices of this Service.",
		Command: fmt.Sprintf("kubectl get endpointslices%s -l %s -o wide", nsArg(svc.Namespace), shell.Quote("kubernetes.io/service-name="+svc.Name)),
	}
	return f, true
}

func podsWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func restarts(p *corev1.Pod) int32 {
	var n int32
	for _, cs := range p.Status.ContainerStatuses {
		n += cs.RestartCount
	}
	return n
}

// noPodMatches explains a selector that matches no pod: a workload scaled
// to zero, a near match under the other label convention, or nothing.
func noPodMatches(f audit.Finding, ix *snapshot.Index, svc *corev1.Service) audit.Finding {
	sel := labelsText(svc.Spec.Selector)
	if wl := scaledToZeroMatching(ix, svc); len(wl) > 0 {
		f.Severity = audit.Warning
		f.Cause = fmt.Sprintf("No pod matches because %s, whose pods the selector describes, %s scaled to 0 replicas.",
			strings.Join(wl, " and "), podsWord(len(wl), "is", "are"))
		kind, name, _ := strings.Cut(wl[0], "/")
		f.Remediation = scaleFix(f.CheckID, "Scale the workload back up if the Service must answer, or delete the Service (and its "+
			"load balancer, if it has one) while the workload is parked.", snapshot.Ref{Kind: kind, Namespace: svc.Namespace, Name: name}, 1)
		if m, ok := replicasManagedElsewhere(ix, svc.Namespace, wl[0]); ok {
			// A hand scale would be undone by the manager that set 0.
			f.Remediation = audit.Remediation{Text: "Scale " + wl[0] + " back up in its source, not by hand: " + m + " manages its replicas and " +
				"would set 0 again. Or delete the Service (and its load balancer, if it has one) while the workload is parked."}
		}
		return f
	}
	if nm, ok := nearMatch(ix, svc); ok {
		f.Cause = fmt.Sprintf("No pod matches %s. The pods of %s carry %s: the Service and the pods use different label "+
			"conventions (Helm's app.kubernetes.io/* labels against hand-written ones), so the selector matches nothing.",
			sel, nm.owner, labelsText(identityLabels(nm.podLabels)))
		var names []string
		for _, p := range nm.pods {
			names = append(names, p.Name)
		}
		f.Evidence = append(f.Evidence,
			fmt.Sprintf("pods of %s: %s", nm.owner, labelsText(identityLabels(nm.podLabels))),
			fmt.Sprintf("selector %s would select %d %s: %s", labelsText(nm.selector), len(nm.pods),
				podsWord(len(nm.pods), "pod", "pods"), joinNames(names, 8)))
		if !svc.CreationTimestamp.IsZero() {
			if d := since(svc.CreationTimestamp.Time, snapshotTime(ix.S)); d != "" {
				f.Evidence = append(f.Evidence, "Service created "+d+" before the snapshot")
			}
		}
		f.Remediation = selectorRemediation(svc, nm)
		return f
	}
	f.Cause = fmt.Sprintf("No pod in namespace %s matches %s, and none would under the other label convention: the workload "+
		"it fronted is gone, was renamed, or runs in another namespace.", svc.Namespace, sel)
	var others []string
	for _, p := range ix.PodsInNamespace(svc.Namespace) {
		others = append(others, p.Name+" ("+labelsText(p.Labels)+")")
	}
	if len(others) > 0 {
		f.Evidence = append(f.Evidence, "pods in the namespace: "+joinNames(others, 5))
	} else {
		f.Evidence = append(f.Evidence, "the namespace has no pods")
	}
	f.Remediation = audit.Remediation{
		Text: "Point the selector at the pods that should serve this Service, or delete the Service if nothing should.",
		Command: fmt.Sprintf("kubectl get pods%s --show-labels && kubectl delete service %s%s",
			nsArg(svc.Namespace), shell.Quote(svc.Name), nsArg(svc.Namespace)),
	}
	return f
}

// scaledToZeroMatching lists the workloads of the Service's namespace
// whose pod template the selector matches and that want 0 replicas.
func scaledToZeroMatching(ix *snapshot.Index, svc *corev1.Service) []string {
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var out []string
	check := func(kind, name string, replicas *int32, tpl map[string]string) {
		if replicas != nil && *replicas == 0 && sel.Matches(labels.Set(tpl)) {
			out = append(out, kind+"/"+name)
		}
	}
	for i := range ix.S.Deployments {
		d := &ix.S.Deployments[i]
		if d.Namespace == svc.Namespace {
			check("Deployment", d.Name, d.Spec.Replicas, d.Spec.Template.Labels)
		}
	}
	for i := range ix.S.StatefulSets {
		ss := &ix.S.StatefulSets[i]
		if ss.Namespace == svc.Namespace {
			check("StatefulSet", ss.Name, ss.Spec.Replicas, ss.Spec.Template.Labels)
		}
	}
	sort.Strings(out)
	return out
}

// conventions pairs the hand-written label keys with Helm's recommended
// ones. A selector key of one side may stand for a pod label of the other.
func conventions() map[string][]string {
	return map[string][]string{
		"app":                          {"app.kubernetes.io/name", "k8s-app", "name"},
		"name":                         {"app.kubernetes.io/name", "app"},
		"k8s-app":                      {"app.kubernetes.io/name", "app"},
		"app.kubernetes.io/name":       {"app", "k8s-app", "name"},
		"component":                    {"app.kubernetes.io/component"},
		"app.kubernetes.io/component":  {"component"},
		"release":                      {"app.kubernetes.io/instance"},
		"instance":                     {"app.kubernetes.io/instance"},
		"app.kubernetes.io/instance":   {"release", "instance"},
		"version":                      {"app.kubernetes.io/version"},
		"app.kubernetes.io/version":    {"version"},
		"app.kubernetes.io/part-of":    {"part-of"},
		"part-of":                      {"app.kubernetes.io/part-of"},
		"tier":                         {"app.kubernetes.io/component"},
		"app.kubernetes.io/managed-by": {"heritage"},
	}
}

// identityLabels drops the labels controllers add for their own
// bookkeeping (template hashes, revisions, chart versions): they never
// belong in a Service selector and only hide the ones that matter.
func identityLabels(l map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range l {
		switch k {
		case "pod-template-hash", "controller-revision-hash", "pod-template-generation", "helm.sh/chart",
			"statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index", "batch.kubernetes.io/controller-uid",
			"batch.kubernetes.io/job-name", "controller-uid", "job-name":
			continue
		}
		out[k] = v
	}
	return out
}

// identityKeys name an application; a corrected selector must keep one.
func identityKey(k string) bool {
	switch k {
	case "app", "name", "k8s-app", "app.kubernetes.io/name", "component", "app.kubernetes.io/component":
		return true
	}
	return false
}

type near struct {
	owner     snapshot.Ref
	podLabels map[string]string
	selector  map[string]string // the corrected selector
	pods      []*corev1.Pod     // pods the corrected selector selects
}

// nearMatch looks, workload by workload, for pods the selector would match
// if each of its keys were read in the other label convention. A key with
// no counterpart on the pods is dropped when it only qualifies the
// application (instance, version, part-of); a key whose counterpart holds
// another value rules the workload out.
func nearMatch(ix *snapshot.Index, svc *corev1.Service) (near, bool) {
	groups := map[snapshot.Ref][]*corev1.Pod{}
	for _, p := range ix.PodsInNamespace(svc.Namespace) {
		if !podTerminal(p) {
			o := workloadOf(ix, p)
			groups[o] = append(groups[o], p)
		}
	}
	owners := make([]snapshot.Ref, 0, len(groups))
	for o := range groups {
		owners = append(owners, o)
	}
	sort.Slice(owners, func(i, j int) bool { return owners[i].String() < owners[j].String() })
	var best []near
	for _, o := range owners {
		pl := groups[o][0].Labels
		corrected, ok := correctSelector(svc.Spec.Selector, pl)
		if !ok {
			continue
		}
		pods := ix.PodsMatching(svc.Namespace, corrected)
		var live []*corev1.Pod
		for _, p := range pods {
			if !podTerminal(p) {
				live = append(live, p)
			}
		}
		if len(live) == 0 {
			continue
		}
		best = append(best, near{owner: o, podLabels: pl, selector: corrected, pods: live})
	}
	if len(best) == 0 {
		return near{}, false
	}
	// Prefer the workload named like the Service, then the one with the most pods.
	sort.SliceStable(best, func(i, j int) bool {
		ni, nj := best[i].owner.Name == svc.Name, best[j].owner.Name == svc.Name
		if ni != nj {
			return ni
		}
		return len(best[i].pods) > len(best[j].pods)
	})
	return best[0], true
}

// correctSelector reads each key of sel in the other label convention
// where pl, a pod's or template's labels, carries it. A key with no
// counterpart in pl is dropped when it only qualifies the application
// (instance, version, part-of); a key whose counterpart holds another
// value, or an identity key with none, rules pl out. The corrected
// selector must keep an identity key.
func correctSelector(sel, pl map[string]string) (map[string]string, bool) {
	conv := conventions()
	corrected := map[string]string{}
	identity := false
	for k, v := range sel {
		if pl[k] == v {
			corrected[k] = v
			identity = identity || identityKey(k)
			continue
		}
		found, conflict := "", false
		for _, alt := range conv[k] {
			if pv, has := pl[alt]; has {
				if pv == v {
					found = alt
					break
				}
				conflict = true
			}
		}
		switch {
		case found != "":
			corrected[found] = v
			identity = identity || identityKey(found)
		case conflict || identityKey(k) || pl[k] != "":
			return nil, false
		}
	}
	if !identity || len(corrected) == 0 {
		return nil, false
	}
	return corrected, true
}

// selectorRemediation writes the selector patch: every wrong key removed
// (null), every right key set. Where the Service belongs to a Helm release
// the patch is undone by the next upgrade, so the lasting fix is named too.
func selectorRemediation(svc *corev1.Service, nm near) audit.Remediation {
	patch := map[string]any{}
	for k := range svc.Spec.Selector {
		if _, keep := nm.selector[k]; !keep {
			patch[k] = nil
		}
	}
	for k, v := range nm.selector {
		if svc.Spec.Selector[k] != v {
			patch[k] = v
		}
	}
	// The first sentence is the same for every Service, so that the
	// report's recommendations sum these findings up as one fix.
	text := fmt.Sprintf("Replace the selector with the labels its pods carry. The new selector is %s: the patch removes the keys "+
		"the pods do not carry (a patch that only added keys would keep the wrong ones and still match nothing). It selects %d %s of %s.",
		labelsText(nm.selector), len(nm.pods), podsWord(len(nm.pods), "pod", "pods"), nm.owner)
	if rel, ok := isHelmManaged(svc); ok {
		text += fmt.Sprintf(" The Service belongs to the Helm release %q: the next `helm upgrade` puts the old selector back. "+
			"Make it last by setting the chart's selector labels in the release's values, or by giving the pod template of %s "+
			"the labels the chart selects (%s).", rel, nm.owner, labelsText(svc.Spec.Selector))
		if tpl := templatePatch(nm.owner, svc.Spec.Selector); tpl != "" {
			text += " Pod template patch: " + tpl
		}
	}
	return patchFix(serviceNoEndpointsID, text, ref("Service", svc.Namespace, svc.Name), "merge",
		map[string]any{"spec": map[string]any{"selector": patch}})
}

// templatePatch adds labels to a workload's pod template; adding keys
// leaves the workload's own selector matching, and rolls the pods.
func templatePatch(owner snapshot.Ref, add map[string]string) string {
	switch owner.Kind {
	case "Deployment", "StatefulSet", "DaemonSet":
	default:
		return ""
	}
	l := map[string]any{}
	for k, v := range add {
		l[k] = v
	}
	return fmt.Sprintf("kubectl patch %s %s%s --type merge -p %s", shell.Quote(strings.ToLower(owner.Kind)), shell.Quote(owner.Name), nsArg(owner.Namespace),
		mergePatch(map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{"labels": l}}}}))
}

// missingTargetPorts lists the Service's named target ports that the
// ready pods do not declare.
func missingTargetPorts(svc *corev1.Service, pods []*corev1.Pod) []string {
	var out []string
	for _, sp := range svc.Spec.Ports {
		if sp.TargetPort.Type != intstr.String || sp.TargetPort.StrVal == "" {
			continue
		}
		found := false
		for _, p := range pods {
			for _, ct := range p.Spec.Containers {
				for _, cp := range ct.Ports {
					if cp.Name == sp.TargetPort.StrVal && protocolOr(cp.Protocol) == protocolOr(sp.Protocol) {
						found = true
					}
				}
			}
		}
		if !found {
			out = append(out, fmt.Sprintf("port %q (targetPort %q)", sp.Name, sp.TargetPort.StrVal))
		}
	}
	return out
}

func protocolOr(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

func podPortsText(p *corev1.Pod) string {
	var parts []string
	for _, ct := range p.Spec.Containers {
		for _, cp := range ct.Ports {
			name := cp.Name
			if name == "" {
				name = "(unnamed)"
			}
			parts = append(parts, fmt.Sprintf("%s %s=%d/%s", ct.Name, name, cp.ContainerPort, protocolOr(cp.Protocol)))
		}
	}
	if len(parts) == 0 {
		return "none declared"
	}
	return strings.Join(parts, ", ")
}

const serviceNoEndpointsID = "service-no-endpoints"

// fixTargetPort points each broken target port at the pods' only port,
// or at the port of the same number when there are several.
func fixTargetPort(svc *corev1.Service, p *corev1.Pod) audit.Remediation {
	var declared []corev1.ContainerPort
	for _, ct := range p.Spec.Containers {
		declared = append(declared, ct.Ports...)
	}
	// A strategic patch merges ports by their port number and changes
	// only targetPort: a merge patch would replace the whole list and drop
	// what it does not repeat, such as the nodePort outside clients use.
	var ports []map[string]any
	for _, sp := range svc.Spec.Ports {
		tp := sp.TargetPort
		if tp.Type == intstr.String && tp.StrVal != "" && len(declared) == 1 {
			ports = append(ports, map[string]any{"port": sp.Port, "protocol": string(protocolOr(sp.Protocol)),
				"targetPort": intstr.FromInt32(declared[0].ContainerPort)})
		}
	}
	text := "Set each Service port's targetPort to a port the pods declare (by name or number)."
	if len(ports) == 0 {
		return audit.Remediation{Text: text + " The pods declare several ports; choose the one the Service must reach."}
	}
	return patchFix(serviceNoEndpointsID, text, ref("Service", svc.Namespace, svc.Name), "strategic",
		map[string]any{"spec": map[string]any{"ports": ports}})
}

// replicasManagedElsewhere names the GitOps controller or autoscaler that
// last set the replicas of the workload kindName ("Deployment/x") of ns.
func replicasManagedElsewhere(ix *snapshot.Index, ns, kindName string) (string, bool) {
	kind, name, _ := strings.Cut(kindName, "/")
	var managed []metav1.ManagedFieldsEntry
	switch kind {
	case "Deployment":
		for i := range ix.S.Deployments {
			if d := &ix.S.Deployments[i]; d.Namespace == ns && d.Name == name {
				managed = d.ManagedFields
			}
		}
	case "StatefulSet":
		for i := range ix.S.StatefulSets {
			if ss := &ix.S.StatefulSets[i]; ss.Namespace == ns && ss.Name == name {
				managed = ss.ManagedFields
			}
		}
	}
	who := snapshot.ReplicasManager(managed)
	if len(who) == 1 && classifyManager(who[0].Manager) != ownerPerson {
		return who[0].Manager, true
	}
	return "", false
}
