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

func (c objCheck) fail(field string, q resource.Quantity, expected string) error {
	return &QuantityError{Kind: c.kind, Namespace: c.namespace, Name: c.name, Field: field, Value: q.String(), Expected: expected}
}

// maxQuantity is the largest amount of a resource Purser computes with:
// a quantity key such as requests.cpu in a quota counts as cpu.
func maxQuantity(name corev1.ResourceName) resource.Quantity {
	if name == corev1.ResourceCPU || strings.HasSuffix(string(name), ".cpu") {
		return MaxCPU
	}
	return MaxBytes
}

// quantity checks one amount: from 0 to its resource's bound.
func (c objCheck) quantity(field string, name corev1.ResourceName, q resource.Quantity) error {
	limit := maxQuantity(name)
	switch {
	case q.Sign() < 0:
		return c.fail(field, q, "a non-negative quantity, as the API server requires")
	case q.Cmp(limit) > 0:
		return c.fail(field, q, "a quantity from 0 to "+limit.String())
	}
	return nil
}

// list checks every amount of a resource list, in the order of the
// resource names so that the first error is always the same one.
func (c objCheck) list(field string, l corev1.ResourceList) error {
	for _, name := range sortedNames(l) {
		if err := c.quantity(field+"."+string(name), name, l[name]); err != nil {
			return err
		}
	}
	return nil
}

// requirements checks requests and limits and, as the API server does,
// that no request is above the limit of the same resource.
func (c objCheck) requirements(field string, r *corev1.ResourceRequirements) error {
	if err := c.list(field+".requests", r.Requests); err != nil {
		return err
	}
	if err := c.list(field+".limits", r.Limits); err != nil {
		return err
	}
	for _, name := range sortedNames(r.Requests) {
		limit, ok := r.Limits[name]
		if req := r.Requests[name]; ok && req.Cmp(limit) > 0 {
			return c.fail(field+".requests."+string(name), req,
				"at most its limit "+limit.String()+", as the API server requires")
		}
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
			at := fmt.Sprintf("%s.%s[%s].resources", field, cs.field, containerKey(ct, i))
			if err := c.requirements(at, &ct.Resources); err != nil {
				return err
			}
		}
	}
	if err := c.list(field+".overhead", spec.Overhead); err != nil {
		return err
	}
	if spec.Resources != nil {
		if err := c.requirements(field+".resources", spec.Resources); err != nil {
			return err
		}
	}
	// Each part within bounds can still add up beyond them: a hundred
	// containers of 1Ei each.
	total := PodRequests(spec)
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		limit := maxQuantity(name)
		if q, ok := total[name]; ok && q.Cmp(limit) > 0 {
			return c.fail(field+".containers[*].resources.requests."+string(name)+" (pod total)", q,
				"a pod total from 0 to "+limit.String())
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
