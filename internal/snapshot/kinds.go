package snapshot

import (
	"encoding/json"
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "sigs.k8s.io/json"
)

// protoList is what every generated Kubernetes list type provides.
type protoList interface {
	runtime.Object
	metav1.ListInterface
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
}

// kind is one modelled kind: how to list it, where it lives in a Snapshot,
// how to slim it and how to (de)serialise it. The table of kinds is the one
// place that knows the set; collection, file loading and the saved format
// all iterate over it.
type kind struct {
	GVR        schema.GroupVersionResource
	Kind       string
	Namespaced bool
	// FieldSelector restricts a live LIST (warning events only).
	FieldSelector string

	newList func() protoList
	// take moves the items of a list into the snapshot, slimming each.
	take func(s *Snapshot, l protoList)
	// decode appends one object decoded from its JSON form, field names
	// matched case-sensitively as the API server does; strict lists the
	// duplicate and unknown fields (see strict.go).
	decode func(s *Snapshot, data []byte) (strict []error, err error)
	// typ is the Go type of one object, for checks before decoding.
	typ reflect.Type
	// list wraps the snapshot's items in a list for encoding.
	list  func(s *Snapshot) protoList
	count func(s *Snapshot) int
	// each calls fn for every object of the kind in the snapshot.
	each func(s *Snapshot, fn func(metav1.Object))
	// overlay sets dst's objects of the kind to over's laid on under's
	// (see Overlay).
	overlay func(dst, under, over *Snapshot)
}

// GroupResource is the kubectl-style name of the kind.
func (k kind) GroupResource() string {
	return KindStatus{Group: k.GVR.Group, Resource: k.GVR.Resource}.GroupResource()
}

// define builds a kind from its Go types. T is the item type, L the list type.
func define[T any, PT interface {
	*T
	runtime.Object
	metav1.Object
}, L any, PL interface {
	*L
	protoList
}](gv schema.GroupVersion, resource, kindName string, namespaced bool,
	field func(*Snapshot) *[]T, items func(PL) *[]T, slim func(*T)) kind {
	stored := gv.String()
	return kind{
		GVR:        gv.WithResource(resource),
		Kind:       kindName,
		Namespaced: namespaced,
		newList:    func() protoList { return PL(new(L)) },
		take: func(s *Snapshot, l protoList) {
			src := *items(l.(PL))
			dst := field(s)
			for i := range src {
				slimMeta(PT(&src[i]), stored)
				if slim != nil {
					slim(&src[i])
				}
			}
			*dst = append(*dst, src...)
		},
		typ: reflect.TypeFor[T](),
		decode: func(s *Snapshot, data []byte) ([]error, error) {
			var t T
			strict, err := kjson.UnmarshalStrict(data, &t, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
			if err != nil {
				return nil, err
			}
			slimMeta(PT(&t), stored)
			if slim != nil {
				slim(&t)
			}
			dst := field(s)
			*dst = append(*dst, t)
			return strict, nil
		},
		list: func(s *Snapshot) protoList {
			l := PL(new(L))
			*items(l) = *field(s)
			return l
		},
		count: func(s *Snapshot) int { return len(*field(s)) },
		each: func(s *Snapshot, fn func(metav1.Object)) {
			items := *field(s)
			for i := range items {
				fn(PT(&items[i]))
			}
		},
		overlay: func(dst, under, over *Snapshot) {
			*field(dst) = overlayItems[T, PT](*field(under), *field(over))
		},
	}
}

// overlayItems returns over's objects, then under's that over does not
// replace (same namespace and name). A built-in stand-in of over gives
// way to under's own object.
func overlayItems[T any, PT interface {
	*T
	metav1.Object
}](under, over []T) []T {
	type id struct{ ns, name string }
	inUnder := make(map[id]bool, len(under))
	for i := range under {
		o := PT(&under[i])
		inUnder[id{o.GetNamespace(), o.GetName()}] = true
	}
	out := make([]T, 0, len(under)+len(over))
	replaced := map[id]bool{}
	for i := range over {
		o := PT(&over[i])
		k := id{o.GetNamespace(), o.GetName()}
		if IsBuiltin(o) && inUnder[k] {
			continue
		}
		replaced[k] = true
		out = append(out, over[i])
	}
	for i := range under {
		o := PT(&under[i])
		if !replaced[id{o.GetNamespace(), o.GetName()}] {
			out = append(out, under[i])
		}
	}
	return out
}

// LastAppliedAnnotation is kubectl's copy of the last applied manifest:
// large, and read by no engine beyond its apiVersion.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// slimMeta drops the managed fields and the last-applied annotation, except
// what engines read of them (see apiversions.go); stored is the API version
// the object is kept in.
func slimMeta(o metav1.Object, stored string) {
	managed := o.GetManagedFields()
	var kept []metav1.ManagedFieldsEntry
	switch o.(type) {
	case *appsv1.Deployment, *appsv1.StatefulSet:
		// Who last set the replicas, and when, is the evidence behind a
		// workload scaled to zero; one entry, cut to that field, is kept.
		kept = ReplicasManager(managed)
	}
	kept = append(kept, keepWrittenAPIVersions(managed, stored)...)
	o.SetManagedFields(kept)
	if a := o.GetAnnotations(); a != nil {
		if last, ok := a[LastAppliedAnnotation]; ok {
			if v := lastAppliedAPIVersion(last); v != "" && v != stored {
				a[LastAppliedAnnotation] = compactLastApplied(v)
			} else {
				delete(a, LastAppliedAnnotation)
			}
			if len(a) == 0 {
				o.SetAnnotations(nil)
			}
		}
	}
}

// kinds returns the modelled kinds in collection order (largest first, so
// that parallel collection finishes sooner).
func kinds() []kind {
	core := corev1.SchemeGroupVersion
	apps := appsv1.SchemeGroupVersion
	batch := batchv1.SchemeGroupVersion
	rbac := rbacv1.SchemeGroupVersion
	net := networkingv1.SchemeGroupVersion
	return []kind{
		define(core, "pods", "Pod", true, func(s *Snapshot) *[]corev1.Pod { return &s.Pods },
			func(l *corev1.PodList) *[]corev1.Pod { return &l.Items }, slimPod),
		define(apps, "replicasets", "ReplicaSet", true, func(s *Snapshot) *[]appsv1.ReplicaSet { return &s.ReplicaSets },
			func(l *appsv1.ReplicaSetList) *[]appsv1.ReplicaSet { return &l.Items }, nil),
		define(core, "events", "Event", true, func(s *Snapshot) *[]corev1.Event { return &s.Events },
			func(l *corev1.EventList) *[]corev1.Event { return &l.Items }, nil).withFieldSelector("type=Warning"),
		define(discoveryv1.SchemeGroupVersion, "endpointslices", "EndpointSlice", true,
			func(s *Snapshot) *[]discoveryv1.EndpointSlice { return &s.EndpointSlices },
			func(l *discoveryv1.EndpointSliceList) *[]discoveryv1.EndpointSlice { return &l.Items }, nil),
		define(core, "services", "Service", true, func(s *Snapshot) *[]corev1.Service { return &s.Services },
			func(l *corev1.ServiceList) *[]corev1.Service { return &l.Items }, nil),
		define(core, "configmaps", "ConfigMap", true, func(s *Snapshot) *[]corev1.ConfigMap { return &s.ConfigMaps },
			func(l *corev1.ConfigMapList) *[]corev1.ConfigMap { return &l.Items }, slimConfigMap),
		define(core, "secrets", "Secret", true, func(s *Snapshot) *[]corev1.Secret { return &s.Secrets },
			func(l *corev1.SecretList) *[]corev1.Secret { return &l.Items }, slimSecret),
		define(core, "serviceaccounts", "ServiceAccount", true, func(s *Snapshot) *[]corev1.ServiceAccount { return &s.ServiceAccounts },
			func(l *corev1.ServiceAccountList) *[]corev1.ServiceAccount { return &l.Items }, nil),
		define(apps, "deployments", "Deployment", true, func(s *Snapshot) *[]appsv1.Deployment { return &s.Deployments },
			func(l *appsv1.DeploymentList) *[]appsv1.Deployment { return &l.Items }, nil),
		define(apps, "statefulsets", "StatefulSet", true, func(s *Snapshot) *[]appsv1.StatefulSet { return &s.StatefulSets },
			func(l *appsv1.StatefulSetList) *[]appsv1.StatefulSet { return &l.Items }, nil),
		define(apps, "daemonsets", "DaemonSet", true, func(s *Snapshot) *[]appsv1.DaemonSet { return &s.DaemonSets },
			func(l *appsv1.DaemonSetList) *[]appsv1.DaemonSet { return &l.Items }, nil),
		define(batch, "jobs", "Job", true, func(s *Snapshot) *[]batchv1.Job { return &s.Jobs },
			func(l *batchv1.JobList) *[]batchv1.Job { return &l.Items }, nil),
		define(batch, "cronjobs", "CronJob", true, func(s *Snapshot) *[]batchv1.CronJob { return &s.CronJobs },
			func(l *batchv1.CronJobList) *[]batchv1.CronJob { return &l.Items }, nil),
		define(autoscalingv2.SchemeGroupVersion, "horizontalpodautoscalers", "HorizontalPodAutoscaler", true,
			func(s *Snapshot) *[]autoscalingv2.HorizontalPodAutoscaler { return &s.HPAs },
			func(l *autoscalingv2.HorizontalPodAutoscalerList) *[]autoscalingv2.HorizontalPodAutoscaler {
				return &l.Items
			}, nil),
		define(policyv1.SchemeGroupVersion, "poddisruptionbudgets", "PodDisruptionBudget", true,
			func(s *Snapshot) *[]policyv1.PodDisruptionBudget { return &s.PDBs },
			func(l *policyv1.PodDisruptionBudgetList) *[]policyv1.PodDisruptionBudget { return &l.Items }, nil),
		define(core, "persistentvolumeclaims", "PersistentVolumeClaim", true,
			func(s *Snapshot) *[]corev1.PersistentVolumeClaim { return &s.PVCs },
			func(l *corev1.PersistentVolumeClaimList) *[]corev1.PersistentVolumeClaim { return &l.Items }, nil),
		define(net, "ingresses", "Ingress", true, func(s *Snapshot) *[]networkingv1.Ingress { return &s.Ingresses },
			func(l *networkingv1.IngressList) *[]networkingv1.Ingress { return &l.Items }, nil),
		define(net, "networkpolicies", "NetworkPolicy", true, func(s *Snapshot) *[]networkingv1.NetworkPolicy { return &s.NetworkPolicies },
			func(l *networkingv1.NetworkPolicyList) *[]networkingv1.NetworkPolicy { return &l.Items }, nil),
		define(core, "resourcequotas", "ResourceQuota", true, func(s *Snapshot) *[]corev1.ResourceQuota { return &s.ResourceQuotas },
			func(l *corev1.ResourceQuotaList) *[]corev1.ResourceQuota { return &l.Items }, nil),
		define(core, "limitranges", "LimitRange", true, func(s *Snapshot) *[]corev1.LimitRange { return &s.LimitRanges },
			func(l *corev1.LimitRangeList) *[]corev1.LimitRange { return &l.Items }, nil),
		define(rbac, "roles", "Role", true, func(s *Snapshot) *[]rbacv1.Role { return &s.Roles },
			func(l *rbacv1.RoleList) *[]rbacv1.Role { return &l.Items }, nil),
		define(rbac, "rolebindings", "RoleBinding", true, func(s *Snapshot) *[]rbacv1.RoleBinding { return &s.RoleBindings },
			func(l *rbacv1.RoleBindingList) *[]rbacv1.RoleBinding { return &l.Items }, nil),
		define(rbac, "clusterroles", "ClusterRole", false, func(s *Snapshot) *[]rbacv1.ClusterRole { return &s.ClusterRoles },
			func(l *rbacv1.ClusterRoleList) *[]rbacv1.ClusterRole { return &l.Items }, nil),
		define(rbac, "clusterrolebindings", "ClusterRoleBinding", false,
			func(s *Snapshot) *[]rbacv1.ClusterRoleBinding { return &s.ClusterRoleBindings },
			func(l *rbacv1.ClusterRoleBindingList) *[]rbacv1.ClusterRoleBinding { return &l.Items }, nil),
		define(core, "nodes", "Node", false, func(s *Snapshot) *[]corev1.Node { return &s.Nodes },
			func(l *corev1.NodeList) *[]corev1.Node { return &l.Items }, slimNode),
		define(core, "namespaces", "Namespace", false, func(s *Snapshot) *[]corev1.Namespace { return &s.Namespaces },
			func(l *corev1.NamespaceList) *[]corev1.Namespace { return &l.Items }, nil),
		define(core, "persistentvolumes", "PersistentVolume", false,
			func(s *Snapshot) *[]corev1.PersistentVolume { return &s.PVs },
			func(l *corev1.PersistentVolumeList) *[]corev1.PersistentVolume { return &l.Items }, nil),
		define(storagev1.SchemeGroupVersion, "storageclasses", "StorageClass", false,
			func(s *Snapshot) *[]storagev1.StorageClass { return &s.StorageClasses },
			func(l *storagev1.StorageClassList) *[]storagev1.StorageClass { return &l.Items }, nil),
		define(apiextensionsv1.SchemeGroupVersion, "customresourcedefinitions", "CustomResourceDefinition", false,
			func(s *Snapshot) *[]apiextensionsv1.CustomResourceDefinition { return &s.CRDs },
			func(l *apiextensionsv1.CustomResourceDefinitionList) *[]apiextensionsv1.CustomResourceDefinition {
				return &l.Items
			}, slimCRD),
	}
}

func (k kind) withFieldSelector(sel string) kind {
	k.FieldSelector = sel
	return k
}

// kindIndex finds modelled kinds by group/kind and by group/resource.
type kindIndex struct {
	all        []kind
	byKind     map[schema.GroupKind]int
	byResource map[schema.GroupResource]int
}

func newKindIndex() kindIndex {
	ks := kinds()
	ix := kindIndex{all: ks, byKind: map[schema.GroupKind]int{}, byResource: map[schema.GroupResource]int{}}
	for i, k := range ks {
		ix.byKind[schema.GroupKind{Group: k.GVR.Group, Kind: k.Kind}] = i
		ix.byResource[k.GVR.GroupResource()] = i
	}
	return ix
}

func (ix kindIndex) lookupKind(gk schema.GroupKind) (kind, bool) {
	i, ok := ix.byKind[gk]
	if !ok {
		return kind{}, false
	}
	return ix.all[i], true
}

// IsDerived reports whether objects of the group/resource are created by
// controllers from other objects (Endpoints mirror EndpointSlices,
// ControllerRevisions record DaemonSet and StatefulSet history, events are
// records). They never make a namespace "not empty" on their own and are not
// collected as Others.
func IsDerived(group, resource string) bool {
	switch group + "/" + resource {
	case "/endpoints", "apps/controllerrevisions", "events.k8s.io/events", "/events", "metrics.k8s.io/pods":
		return true
	}
	return false
}

func slimPod(p *corev1.Pod) {
	// Pods carry their own copy of status that engines read; the rest of
	// the bulk (managed fields) is already gone. Drop per-container image
	// IDs, which are long, except where the spec names a mutable tag: the
	// digest actually running is then what the image can be pinned to.
	mutable := map[string]bool{}
	for _, c := range p.Spec.Containers {
		mutable[c.Name] = MutableImage(c.Image)
	}
	for i := range p.Status.ContainerStatuses {
		st := &p.Status.ContainerStatuses[i]
		if !mutable[st.Name] {
			st.ImageID = ""
		}
		st.ContainerID = ""
	}
}

// MutableImage reports an image reference that names no digest and the
// tag latest or no tag (which pulls latest): what it runs changes with
// every push.
func MutableImage(image string) bool {
	if strings.Contains(image, "@") {
		return false
	}
	last := image[strings.LastIndex(image, "/")+1:]
	_, tag, ok := strings.Cut(last, ":")
	return !ok || tag == "latest"
}

func slimNode(n *corev1.Node) {
	// The image list is the largest part of a Node and no engine reads it.
	n.Status.Images = nil
	n.Status.VolumesAttached = nil
}

func slimConfigMap(c *corev1.ConfigMap) {
	// Binary data is never scanned; keep its keys so references resolve.
	for k := range c.BinaryData {
		c.BinaryData[k] = nil
	}
}

func slimSecret(s *corev1.Secret) {
	// Values are never kept. Files may contain them; they are dropped here,
	// at decode time, and never reach an engine or a saved snapshot.
	s.Data = nil
	s.StringData = nil
}

// replicasFields is the field set of a managed-fields entry that owns
// spec.replicas, as ReplicasManager keeps it.
const replicasFields = `{"f:spec":{"f:replicas":{}}}`

// ReplicasManager returns the managed-fields entry that owns spec.replicas
// (the newest, if several do), with its field set cut to that field, or
// nil: the manager (kubectl, an autoscaler, a GitOps controller), the
// operation and subresource (an Update of "scale" is `kubectl scale`), and
// the time.
func ReplicasManager(entries []metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry {
	var best *metav1.ManagedFieldsEntry
	for i := range entries {
		e := &entries[i]
		if e.FieldsV1 == nil || !ownsReplicas(e.FieldsV1.Raw) {
			continue
		}
		if best == nil || e.Time != nil && (best.Time == nil || e.Time.After(best.Time.Time)) {
			best = e
		}
	}
	if best == nil {
		return nil
	}
	kept := *best
	kept.FieldsV1 = &metav1.FieldsV1{Raw: []byte(replicasFields)}
	return []metav1.ManagedFieldsEntry{kept}
}

func ownsReplicas(raw []byte) bool {
	var fields struct {
		Spec map[string]json.RawMessage `json:"f:spec"`
	}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return false
	}
	_, ok := fields.Spec["f:replicas"]
	return ok
}

// APIVersionOf returns the apiVersion of a modelled kind ("apps/v1" for
// Deployment), the version the snapshot stores it in.
func APIVersionOf(kindName string) (string, bool) {
	for _, k := range kinds() {
		if k.Kind == kindName {
			return k.GVR.GroupVersion().String(), true
		}
	}
	return "", false
}
