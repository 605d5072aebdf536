package snapshot

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// QuantityError is a resource quantity of one object that the API server
// would not admit (a negative request, a request above its limit) or that
// no real cluster holds (beyond MaxCPU or MaxBytes). Engines turn
// quantities into int64 millicores and bytes; such a value would give
// negative costs, invented savings or a wrapped sum, so a snapshot holding
// one is refused as invalid input.
type QuantityError struct {
	Kind, Namespace, Name string
	// Field is the path of the quantity in the object, as kubectl explain
	// writes it, with containers named: spec.containers[app].resources.requests.cpu.
	Field string
	Value string
	// Expected says what the field may hold.
	Expected string
}

func (e *QuantityError) Error() string {
	name := e.Name
	if e.Namespace != "" {
		name = e.Namespace + "/" + e.Name
	}
	return fmt.Sprintf("%s %s: %s is %s: expected %s", e.Kind, name, e.Field, e.Value, e.Expected)
}

// Validate checks every quantity of every object in s that an engine
// converts to a number (see ValidateObject) and returns the first that is
// out of range, in the snapshot's order of kinds and objects.
func Validate(s *Snapshot) error {
	for _, k := range kinds() {
		var err error
		k.each(s, func(o metav1.Object) {
			if err == nil {
				err = ValidateObject(o)
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ValidateObject checks the quantities of one object the way the API
// server's admission does, and within what Purser can compute with:
//
//   - Pods and the pod templates of Deployments, StatefulSets, DaemonSets,
//     ReplicaSets, Jobs and CronJobs: every container's and init
//     container's requests and limits, the pod overhead and the pod-level
//     resources are non-negative and within bounds, a request is not above
//     its limit, and the pod's total request (PodRequests) is within bounds;
//   - Nodes: capacity and allocatable;
//   - PersistentVolumeClaims (and StatefulSet claim templates): requested,
//     limited and bound capacity; PersistentVolumes: capacity;
//   - ResourceQuotas and LimitRanges: every amount.
//
// The bound is MaxCPU for cpu and MaxBytes for every other resource
// (memory, storage, pod slots and extended resources alike). Objects of
// other types are accepted as they are.
func ValidateObject(o any) error {
	switch o := o.(type) {
	case *corev1.Pod:
		return checkPodSpec(newObjCheck("Pod", &o.ObjectMeta), "spec", &o.Spec)
	case *appsv1.Deployment:
		return checkPodSpec(newObjCheck("Deployment", &o.ObjectMeta), "spec.template.spec", &o.Spec.Template.Spec)
	case *appsv1.ReplicaSet:
		return checkPodSpec(newObjCheck("ReplicaSet", &o.ObjectMeta), "spec.template.spec", &o.Spec.Template.Spec)
	case *appsv1.DaemonSet:
		return checkPodSpec(newObjCheck("DaemonSet", &o.ObjectMeta), "spec.template.spec", &o.Spec.Template.Spec)
	case *appsv1.StatefulSet:
		c := newObjCheck("StatefulSet", &o.ObjectMeta)
		if err := checkPodSpec(c, "spec.template.spec", &o.Spec.Template.Spec); err != nil {
			return err
		}
		for i := range o.Spec.VolumeClaimTemplates {
			t := &o.Spec.VolumeClaimTemplates[i]
			if err := checkClaimSpec(c, "spec.volumeClaimTemplates["+t.Name+"].spec", &t.Spec); err != nil {
				return err
			}
		}
		return nil
	case *batchv1.Job:
		return checkPodSpec(newObjCheck("Job", &o.ObjectMeta), "spec.template.spec", &o.Spec.Template.Spec)
	case *batchv1.CronJob:
		return checkPodSpec(newObjCheck("CronJob", &o.ObjectMeta), "spec.jobTemplate.spec.template.spec", &o.Spec.JobTemplate.Spec.Template.Spec)
	case *corev1.Node:
		c := newObjCheck("Node", &o.ObjectMeta)
		if err := c.list("status.capacity", o.Status.Capacity); err != nil {
			return err
		}
		return c.list("status.allocatable", o.Status.Allocatable)
	case *corev1.PersistentVolumeClaim:
		c := newObjCheck("PersistentVolumeClaim", &o.ObjectMeta)
		if err := checkClaimSpec(c, "spec", &o.Spec); err != nil {
			return err
		}
		return c.list("status.capacity", o.Status.Capacity)
	case *corev1.PersistentVolume:
		return newObjCheck("PersistentVolume", &o.ObjectMeta).list("spec.capacity", o.Spec.Capacity)
	case *corev1.ResourceQuota:
		c := newObjCheck("ResourceQuota", &o.ObjectMeta)
		for _, l := range []struct {
			field string
			list  corev1.ResourceList
		}{{"spec.hard", o.Spec.Hard}, {"status.hard", o.Status.Hard}, {"status.used", o.Status.Used}} {
			if err := c.list(l.field, l.list); err != nil {
				return err
			}
		}
		return nil
	case *corev1.LimitRange:
		c := newObjCheck("LimitRange", &o.ObjectMeta)
		for i, item := range o.Spec.Limits {
			at := fmt.Sprintf("spec.limits[%d].", i)
			for _, l := range []struct {
				field string
				list  corev1.ResourceList
			}{{"max", item.Max}, {"min", item.Min}, {"default", item.Default}, {"defaultRequest", item.DefaultRequest},
				{"maxLimitRequestRatio", item.MaxLimitRequestRatio}} {
				if err := c.list(at+l.field, l.list); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return nil
}

// objCheck checks the quantities of one object and names it in errors.
type objCheck struct {
	kind, namespace, name string
}

func newObjCheck(kind string, m *metav1.ObjectMeta) objCheck {
	return objCheck{kind: kind, namespace: m.Namespace, name: m.Name}
}

// problem is what is wrong with one quantity: its path below the list or
// requirements checked ("cpu", "requests.memory"), its value and what is
// expected. The zero problem means nothing is wrong. Problems carry no
// object and no full path: those are written only when there is an error,
// so that checking the many objects that are fine builds no strings.
type problem struct {
	at       string
	q        resource.Quantity
	expected string
}

func (p problem) found() bool { return p.expected != "" }

// fail turns a problem at field into the error naming the object.
func (c objCheck) fail(field string, p problem) error {
	if p.at != "" {
		field += "." + p.at
	}
	return &QuantityError{Kind: c.kind, Namespace: c.namespace, Name: c.name, Field: field, Value: p.q.String(), Expected: p.expected}
}

// maxQuantity is the largest amount of a resource Purser computes with:
// a quantity key such as requests.cpu in a quota counts as cpu.
func maxQuantity(name corev1.ResourceName) resource.Quantity {
	if name == corev1.ResourceCPU || strings.HasSuffix(string(name), ".cpu") {
		return MaxCPU
	}
	return MaxBytes
}

// amountProblem checks one amount: from 0 to its resource's bound.
func amountProblem(name corev1.ResourceName, q resource.Quantity) problem {
	if q.Sign() < 0 {
		return problem{at: string(name), q: q, expected: "a non-negative quantity, as the API server requires"}
	}
	cpu := name == corev1.ResourceCPU || strings.HasSuffix(string(name), ".cpu")
	if cpu && q.Cmp(MaxCPU) > 0 || !cpu && exceedsMaxBytes(q) {
		limit := maxQuantity(name)
		return problem{at: string(name), q: q, expected: "a quantity from 0 to " + limit.String()}
	}
	return problem{}
}

// listProblem checks every amount of a resource list. The names are
// sorted only once something is wrong, so that the problem reported is
// always the same one without sorting every list of every object.
func listProblem(l corev1.ResourceList) problem {
	for name, q := range l {
		if amountProblem(name, q).found() {
			for _, name := range sortedNames(l) {
				if p := amountProblem(name, l[name]); p.found() {
					return p
				}
			}
		}
	}
	return problem{}
}

// requirementsProblem checks requests and limits and, as the API server
// does, that no request is above the limit of the same resource.
func requirementsProblem(r *corev1.ResourceRequirements) problem {
	if p := listProblem(r.Requests); p.found() {
		p.at = "requests." + p.at
		return p
	}
	if p := listProblem(r.Limits); p.found() {
		p.at = "limits." + p.at
		return p
	}
	if len(r.Limits) == 0 {
		return problem{}
	}
	for _, name := range sortedNames(r.Requests) {
		limit, ok := r.Limits[name]
		if req := r.Requests[name]; ok && req.Cmp(limit) > 0 {
			return problem{at: "requests." + string(name), q: req, expected: "at most its limit " + limit.String() + ", as the API server requires"}
		}
	}
	return problem{}
}

// list checks a resource list at field.
func (c objCheck) list(field string, l corev1.ResourceList) error {
	if p := listProblem(l); p.found() {
		return c.fail(field, p)
	}
	return nil
}

func checkPodSpec(c objCheck, field string, spec *corev1.PodSpec) error {
	for _, cs := range []struct {
		field string
		list  []corev1.Container
	}{{"initContainers", spec.InitContainers}, {"containers", spec.Containers}} {
		for i := range cs.list {
			ct := &cs.list[i]
			if p := requirementsProblem(&ct.Resources); p.found() {
				return c.fail(fmt.Sprintf("%s.%s[%s].resources", field, cs.field, containerKey(ct, i)), p)
			}
		}
	}
	if err := c.list(field+".overhead", spec.Overhead); err != nil {
		return err
	}
	if spec.Resources != nil {
		if p := requirementsProblem(spec.Resources); p.found() {
			return c.fail(field+".resources", p)
		}
	}
	// Each part within bounds can still add up beyond them: a hundred
	// containers of 1Ei each. The scheduler's total is never more than
	// the sum of every part, so it is computed, which costs more than all
	// the checks above, only when that sum passes a bound.
	var cpu, mem int64
	add := func(l corev1.ResourceList) {
		cpu = AddSat(cpu, ClampedMilliCPU(l[corev1.ResourceCPU]))
		mem = AddSat(mem, ClampedBytes(l[corev1.ResourceMemory]))
	}
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			add(cs[i].Resources.Requests)
			add(cs[i].Resources.Limits)
		}
	}
	add(spec.Overhead)
	if spec.Resources != nil {
		add(spec.Resources.Requests)
		add(spec.Resources.Limits)
	}
	if cpu <= maxMilliCPU && mem <= maxBytes {
		return nil
	}
	total := PodRequests(spec)
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		limit := maxQuantity(name)
		if q, ok := total[name]; ok && q.Cmp(limit) > 0 {
			return c.fail(field+".containers[*].resources.requests."+string(name)+" (pod total)",
				problem{q: q, expected: "a pod total from 0 to " + limit.String()})
		}
	}
	return nil
}

func checkClaimSpec(c objCheck, field string, spec *corev1.PersistentVolumeClaimSpec) error {
	if err := c.list(field+".resources.requests", spec.Resources.Requests); err != nil {
		return err
	}
	return c.list(field+".resources.limits", spec.Resources.Limits)
}

// containerKey names a container in a field path by its name, or by its
// index when it has none (a hand-written manifest).
func containerKey(ct *corev1.Container, i int) string {
	if ct.Name != "" {
		return ct.Name
	}
	return fmt.Sprint(i)
}

func sortedNames(l corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(l))
	for name := range l {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// validateItems checks the items of a kind's list from index from on: the
// loader calls it for the object it has just added, so that its error
// carries the file and line, and the saved-snapshot decoder for a whole
// record. Every list type keeps its objects in a field named Items.
func validateItems(l protoList, from int) error {
	items := reflect.ValueOf(l).Elem().FieldByName("Items")
	for i := from; i < items.Len(); i++ {
		if err := ValidateObject(items.Index(i).Addr().Interface()); err != nil {
			return err
		}
	}
	return nil
}
