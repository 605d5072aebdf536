package plan

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/purserhq/purser/internal/snapshot"
)

// kobj is a typed Kubernetes object.
type kobj interface {
	metav1.Object
	runtime.Object
}

// object is one top-level namespaced object a plan can move.
type object struct {
	apiVersion, kind string
	ns, name         string
	obj              kobj // a deep copy, rewritten for the target
}

func (o *object) ref() string { return o.kind + "/" + o.ns + "/" + o.name }

func refOf(o *object) snapshot.Ref { return snapshot.Ref{Kind: o.kind, Namespace: o.ns, Name: o.name} }

// movable lists, per namespace, the top-level objects a move carries.
// Children of controllers are left out (their controllers recreate them),
// and so are what Kubernetes creates in every namespace and what the API
// server derives (EndpointSlices, Events).
func movable(s *snapshot.Snapshot) map[string][]*object {
	out := map[string][]*object{}
	add := func(apiVersion, kind string, o kobj) {
		if snapshot.IsDefaultObject(kind, o) || metav1.GetControllerOf(o) != nil {
			return
		}
		if kind == "Secret" {
			if sec, ok := o.(*corev1.Secret); ok && sec.Type == corev1.SecretTypeServiceAccountToken {
				return // recreated by the token controller for its ServiceAccount
			}
		}
		c, _ := o.DeepCopyObject().(kobj)
		out[o.GetNamespace()] = append(out[o.GetNamespace()], &object{
			apiVersion: apiVersion, kind: kind, ns: o.GetNamespace(), name: o.GetName(), obj: c})
	}
	for i := range s.Deployments {
		add("apps/v1", "Deployment", &s.Deployments[i])
	}
	for i := range s.StatefulSets {
		add("apps/v1", "StatefulSet", &s.StatefulSets[i])
	}
	for i := range s.DaemonSets {
		add("apps/v1", "DaemonSet", &s.DaemonSets[i])
	}
	for i := range s.ReplicaSets {
		add("apps/v1", "ReplicaSet", &s.ReplicaSets[i])
	}
	for i := range s.CronJobs {
		add("batch/v1", "CronJob", &s.CronJobs[i])
	}
	for i := range s.Jobs {
		add("batch/v1", "Job", &s.Jobs[i])
	}
	for i := range s.Pods {
		add("v1", "Pod", &s.Pods[i])
	}
	for i := range s.Services {
		add("v1", "Service", &s.Services[i])
	}
	for i := range s.ConfigMaps {
		add("v1", "ConfigMap", &s.ConfigMaps[i])
	}
	for i := range s.Secrets {
		add("v1", "Secret", &s.Secrets[i])
	}
	for i := range s.ServiceAccounts {
		add("v1", "ServiceAccount", &s.ServiceAccounts[i])
	}
	for i := range s.PVCs {
		add("v1", "PersistentVolumeClaim", &s.PVCs[i])
	}
	for i := range s.Ingresses {
		add("networking.k8s.io/v1", "Ingress", &s.Ingresses[i])
	}
	for i := range s.NetworkPolicies {
		add("networking.k8s.io/v1", "NetworkPolicy", &s.NetworkPolicies[i])
	}
	for i := range s.ResourceQuotas {
		add("v1", "ResourceQuota", &s.ResourceQuotas[i])
	}
	for i := range s.LimitRanges {
		add("v1", "LimitRange", &s.LimitRanges[i])
	}
	for i := range s.Roles {
		add("rbac.authorization.k8s.io/v1", "Role", &s.Roles[i])
	}
	for i := range s.RoleBindings {
		add("rbac.authorization.k8s.io/v1", "RoleBinding", &s.RoleBindings[i])
	}
	for i := range s.HPAs {
		add("autoscaling/v2", "HorizontalPodAutoscaler", &s.HPAs[i])
	}
	for i := range s.PDBs {
		add("policy/v1", "PodDisruptionBudget", &s.PDBs[i])
	}
	for _, objs := range out {
		sort.SliceStable(objs, func(i, j int) bool {
			if kindOrder(objs[i].kind) != kindOrder(objs[j].kind) {
				return kindOrder(objs[i].kind) < kindOrder(objs[j].kind)
			}
			return objs[i].name < objs[j].name
		})
	}
	return out
}

// kindOrder sorts objects the way they must be created: what others
// refer to first.
func kindOrder(kind string) int {
	for i, k := range []string{"ResourceQuota", "LimitRange", "ServiceAccount", "Secret", "ConfigMap",
		"PersistentVolumeClaim", "Role", "RoleBinding", "NetworkPolicy", "Service", "Deployment", "StatefulSet",
		"DaemonSet", "ReplicaSet", "CronJob", "Job", "Pod", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress"} {
		if k == kind {
			return i
		}
	}
	return 99
}

// podSpec returns the pod template spec of a workload, or nil.
func podSpec(o kobj) *corev1.PodSpec {
	if t := podTemplate(o); t != nil {
		return &t.Spec
	}
	if p, ok := o.(*corev1.Pod); ok {
		return &p.Spec
	}
	return nil
}
