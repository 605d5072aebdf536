package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/purserhq/purser/internal/pricing"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

// ruleCheck is a check described by its metadata and a run function; the
// hygiene, resource and security checks are all of this shape.
type ruleCheck struct {
	id          string
	category    audit.Category
	severity    audit.Severity
	description string
	// reads are the kinds the check reads (audit.Reader).
	reads []string
	// manifests says whether the check runs on manifests alone.
	manifests audit.Manifests
	run       func(c ruleCheck, in *audit.Input) []audit.Finding
}

func (c ruleCheck) ID() string                      { return c.id }
func (c ruleCheck) Category() audit.Category        { return c.category }
func (c ruleCheck) DefaultSeverity() audit.Severity { return c.severity }
func (c ruleCheck) Description() string             { return c.description }
func (c ruleCheck) Reads() []string                 { return c.reads }
func (c ruleCheck) OnManifests() audit.Manifests    { return c.manifests }

func (c ruleCheck) Run(ctx context.Context, in *audit.Input) []audit.Finding {
	if in == nil || in.Index == nil || ctx.Err() != nil {
		return nil
	}
	return c.run(c, in)
}

// finding starts a finding of this check about obj, at the check's default
// severity.
func (c ruleCheck) finding(obj snapshot.Ref, message string) audit.Finding {
	return audit.Finding{CheckID: c.id, Severity: c.severity, Category: c.category, Object: obj, Message: message}
}

// platformNamespace reports whether a namespace is run by Kubernetes or the
// managed-cluster provider rather than by the cluster's users: the objects
// there are created and reconciled by the control plane, and a finding
// about them would ask users to change what they do not own.
func platformNamespace(ns string) bool {
	switch ns {
	case "kube-system", "kube-public", "kube-node-lease":
		return true
	}
	return false
}

// templateOwner is an object that owns a pod template: a workload, a
// stand-alone Job or ReplicaSet, or a bare Pod. Findings about pods are
// reported at this level, once per workload rather than once per pod.
type templateOwner struct {
	Ref    snapshot.Ref
	Meta   *metav1.ObjectMeta
	Labels map[string]string // the pod template's labels
	Spec   *corev1.PodSpec
	// Replicas is the desired replica count of Deployments and
	// StatefulSets (1 when unset, as the API defaults it); -1 otherwise.
	Replicas int32
}

// podSpecPrefix returns the JSON that wraps a pod spec fragment into a
// patch of the owner: pod templates sit at different depths per kind.
func (o templateOwner) podSpecPrefix() (open, close string) {
	switch o.Ref.Kind {
	case "Pod":
		return `{"spec":`, `}`
	case "CronJob":
		return `{"spec":{"jobTemplate":{"spec":{"template":{"spec":`, `}}}}}`
	default:
		return `{"spec":{"template":{"spec":`, `}}}`
	}
}

func replicasOf(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// derivedKey names what the checks derive from an index once per audit
// (snapshot.Index.Memo).
type derivedKey int

const (
	ownersKey derivedKey = iota + 1
	userOwnersKey
)

// templateOwners lists every pod template owner of the snapshot, sorted.
// Pods and ReplicaSets are included only when nothing in the snapshot
// already stands for them (a bare Pod, a ReplicaSet without Deployment, a
// pod of a controller Purser does not model). A dozen checks walk it: it
// is built once per index and shared, so callers must not change it.
func templateOwners(ix *snapshot.Index) []templateOwner {
	return ix.Memo(ownersKey, func() any { return buildTemplateOwners(ix) }).([]templateOwner)
}

func buildTemplateOwners(ix *snapshot.Index) []templateOwner {
	s := ix.S
	var out []templateOwner
	covered := map[snapshot.Ref]bool{}
	add := func(o templateOwner) {
		if covered[o.Ref] {
			return
		}
		covered[o.Ref] = true
		out = append(out, o)
	}
	for i := range s.Deployments {
		d := &s.Deployments[i]
		add(templateOwner{Ref: ref("Deployment", d.Namespace, d.Name), Meta: &d.ObjectMeta,
			Labels: d.Spec.Template.Labels, Spec: &d.Spec.Template.Spec, Replicas: replicasOf(d.Spec.Replicas)})
	}
	for i := range s.StatefulSets {
		ss := &s.StatefulSets[i]
		add(templateOwner{Ref: ref("StatefulSet", ss.Namespace, ss.Name), Meta: &ss.ObjectMeta,
			Labels: ss.Spec.Template.Labels, Spec: &ss.Spec.Template.Spec, Replicas: replicasOf(ss.Spec.Replicas)})
	}
	for i := range s.DaemonSets {
		ds := &s.DaemonSets[i]
		add(templateOwner{Ref: ref("DaemonSet", ds.Namespace, ds.Name), Meta: &ds.ObjectMeta,
			Labels: ds.Spec.Template.Labels, Spec: &ds.Spec.Template.Spec, Replicas: -1})
	}
	for i := range s.CronJobs {
		cj := &s.CronJobs[i]
		add(templateOwner{Ref: ref("CronJob", cj.Namespace, cj.Name), Meta: &cj.ObjectMeta,
			Labels: cj.Spec.JobTemplate.Spec.Template.Labels, Spec: &cj.Spec.JobTemplate.Spec.Template.Spec, Replicas: -1})
	}
	for i := range s.Jobs {
		j := &s.Jobs[i]
		if top := ix.TopOwner("Job", j); covered[top] {
			continue
		}
		add(templateOwner{Ref: ref("Job", j.Namespace, j.Name), Meta: &j.ObjectMeta,
			Labels: j.Spec.Template.Labels, Spec: &j.Spec.Template.Spec, Replicas: -1})
	}
	for i := range s.ReplicaSets {
		rs := &s.ReplicaSets[i]
		if top := ix.TopOwner("ReplicaSet", rs); covered[top] {
			continue
		}
		add(templateOwner{Ref: ref("ReplicaSet", rs.Namespace, rs.Name), Meta: &rs.ObjectMeta,
			Labels: rs.Spec.Template.Labels, Spec: &rs.Spec.Template.Spec, Replicas: replicasOf(rs.Spec.Replicas)})
	}
	for i := range s.Pods {
		p := &s.Pods[i]
		top := ix.TopOwner("Pod", p)
		if covered[top] {
			continue
		}
		// A pod of a controller Purser does not model stands for it; the
		// first pod seen carries the template.
		add(templateOwner{Ref: top, Meta: &p.ObjectMeta, Labels: p.Labels, Spec: &p.Spec, Replicas: -1})
	}
	// Sorted by the text of each reference, formatted once rather than
	// twice per comparison.
	keys := make([]string, len(out))
	order := make([]int, len(out))
	for i := range out {
		keys[i], order[i] = out[i].Ref.String(), i
	}
	sort.Slice(order, func(i, j int) bool { return keys[order[i]] < keys[order[j]] })
	sorted := make([]templateOwner, len(out))
	for i, o := range order {
		sorted[i] = out[o]
	}
	return sorted
}

func ref(kind, ns, name string) snapshot.Ref {
	return snapshot.Ref{Kind: kind, Namespace: ns, Name: name}
}

// userTemplateOwners is templateOwners without the platform namespaces.
func userTemplateOwners(ix *snapshot.Index) []templateOwner {
	return ix.Memo(userOwnersKey, func() any {
		var out []templateOwner
		for _, o := range templateOwners(ix) {
			if !platformNamespace(o.Ref.Namespace) {
				out = append(out, o)
			}
		}
		return out
	}).([]templateOwner)
}

// allContainers returns init and regular containers: settings such as
// requests, images and users matter for both.
func allContainers(spec *corev1.PodSpec) []corev1.Container {
	out := make([]corev1.Container, 0, len(spec.InitContainers)+len(spec.Containers))
	out = append(out, spec.InitContainers...)
	return append(out, spec.Containers...)
}

// namesList joins names for a message: "a", "a and b", "a, b and c".
func namesList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// plural returns word with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// kubectlName names an object the way kubectl arguments do: deployment/web.
func kubectlName(r snapshot.Ref) string {
	return shell.Quote(strings.ToLower(r.Kind) + "/" + r.Name)
}

// nsFlag returns " -n ns" for a namespaced object.
func nsFlag(r snapshot.Ref) string {
	if r.Namespace == "" {
		return ""
	}
	return " -n " + shell.Quote(r.Namespace)
}

// storageSize returns a PVC's size: its bound capacity, or what it asks for.
func storageSize(pvc *corev1.PersistentVolumeClaim) (resource.Quantity, bool) {
	if q, ok := pvc.Status.Capacity[corev1.ResourceStorage]; ok {
		return q, true
	}
	q, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	return q, ok
}

// storageCost says what a volume of size q in storage class class costs,
// in words, from the price book when there is one.
func storageCost(book *pricing.Book, q resource.Quantity, class string) string {
	size := q.String()
	if book == nil {
		return size + " of block storage, billed by the provider whether or not a pod mounts it"
	}
	price, _ := book.StoragePrice(class)
	// Priced on exact bytes, as `purser cost` prices volumes.
	bytes, err := snapshot.CheckedBytes("size", q)
	if err != nil {
		return size + " of block storage (" + err.Error() + "), billed whether or not a pod mounts it"
	}
	monthly, err := price.MulRat(bytes, 1<<30)
	if err != nil {
		return size + " of block storage, billed whether or not a pod mounts it"
	}
	return fmt.Sprintf("%s of block storage, about %s a month at %s per GiB-month (price book %s), billed whether or not a pod mounts it",
		size, monthly.String(), price.String(), book.Name)
}

// kindListed reports whether the snapshot read a kind; when it did not, a
// check cannot say an object of that kind is missing.
func kindListed(s *snapshot.Snapshot, group, resource string) bool {
	for _, k := range s.Meta.Kinds {
		if k.Group == group && k.Resource == resource {
			return k.Listed()
		}
	}
	// A snapshot that records no kinds at all (built in code) is taken as
	// complete; one that records others but not this one never asked.
	return len(s.Meta.Kinds) == 0
}

// selectorText writes a label map the way kubectl does: a=b,c=d.
func selectorText(sel map[string]string) string {
	var parts []string
	for _, k := range mapKeysSorted(sel) {
		parts = append(parts, k+"="+sel[k])
	}
	return strings.Join(parts, ",")
}

func mapKeysSorted(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// inPlace returns r for owners whose pod template can be patched. A bare
// Pod's spec is immutable and so is a Job's template: for those the patch
// commands are dropped and the remediation says to re-create the object.
func (o templateOwner) inPlace(r audit.Remediation) audit.Remediation {
	if o.Ref.Kind != "Pod" && o.Ref.Kind != "Job" {
		return r
	}
	r.Command = ""
	r.Text += " A " + o.Ref.Kind + "'s pod template cannot be changed in place: fix its manifest and re-create it."
	return r
}

// templateFix patches the pod template of o with body, a strategic merge
// patch, or, for a Pod or Job whose template cannot change, says what to
// change in its manifest.
func (o templateOwner) templateFix(checkID, text, body string) audit.Remediation {
	if o.Ref.Kind == "Pod" || o.Ref.Kind == "Job" {
		return o.inPlace(audit.Remediation{Text: text})
	}
	return patchFix(checkID, text, o.Ref, "strategic", json.RawMessage(body))
}
