// Package snapshot holds Purser's model of a cluster: one consistent, slim
// copy of every object the engines read, collected from a live API server or
// loaded from files, plus an Index that answers the questions engines ask.
package snapshot

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"time"

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
)

// FormatVersion is the version of the saved snapshot format. Bump it when
// the encoding changes in a way older readers cannot follow.
const FormatVersion = 1

// Snapshot is a point-in-time copy of a cluster. Objects are slim: managed
// fields, last-applied annotations, Secret values and other bulk no engine
// reads are dropped on the way in.
type Snapshot struct {
	Meta Meta

	Nodes               []corev1.Node
	Namespaces          []corev1.Namespace
	Pods                []corev1.Pod
	Services            []corev1.Service
	EndpointSlices      []discoveryv1.EndpointSlice
	Deployments         []appsv1.Deployment
	ReplicaSets         []appsv1.ReplicaSet
	StatefulSets        []appsv1.StatefulSet
	DaemonSets          []appsv1.DaemonSet
	Jobs                []batchv1.Job
	CronJobs            []batchv1.CronJob
	HPAs                []autoscalingv2.HorizontalPodAutoscaler
	PDBs                []policyv1.PodDisruptionBudget
	ConfigMaps          []corev1.ConfigMap
	Secrets             []corev1.Secret // metadata and type only: Data is always nil
	ServiceAccounts     []corev1.ServiceAccount
	PVCs                []corev1.PersistentVolumeClaim
	PVs                 []corev1.PersistentVolume
	StorageClasses      []storagev1.StorageClass
	Ingresses           []networkingv1.Ingress
	NetworkPolicies     []networkingv1.NetworkPolicy
	ResourceQuotas      []corev1.ResourceQuota
	LimitRanges         []corev1.LimitRange
	Roles               []rbacv1.Role
	RoleBindings        []rbacv1.RoleBinding
	ClusterRoles        []rbacv1.ClusterRole
	ClusterRoleBindings []rbacv1.ClusterRoleBinding
	Events              []corev1.Event // warnings only

	// CRDs keep only their names and versions: which versions are
	// served, stored and deprecated (see slimCRD).
	CRDs []apiextensionsv1.CustomResourceDefinition

	// Others are namespaced objects of every other listable kind (custom
	// resources included), kept as references so that "is this namespace
	// empty" can be answered for every kind. Read from files, objects
	// without a namespace are kept too, with none (cluster-scoped kinds,
	// or modelled kinds in another version), so that their apiVersion
	// can be judged.
	Others []ObjectRef
}

// Meta describes where and when a snapshot was taken, and which kinds it
// could and could not read.
type Meta struct {
	FormatVersion int    `json:"formatVersion"`
	Source        string `json:"source"` // "live:<server>", a file path, or "demo"
	Context       string `json:"context,omitempty"`
	// Cluster names the cluster in a run over several (its context, or
	// the name purser.yaml gives it); empty for a run over one.
	Cluster       string `json:"cluster,omitempty"`
	ServerVersion string `json:"serverVersion,omitempty"`
	// CollectedAt is when the objects were read: the start of a live
	// collection; for files, the newest time the objects record, else the
	// newest modification time of the files. It is zero when unknown:
	// reports then say so and give no ages relative to it.
	CollectedAt time.Time `json:"collectedAt,omitzero"`
	// Kinds records, for every kind Purser tried to read, whether it was
	// read. A kind that could not be read is unknown, never empty.
	Kinds []KindStatus `json:"kinds"`
	// Warnings are things the loader skipped or could only keep in part.
	Warnings []string `json:"warnings,omitempty"`
	// Locations are where the objects read from files were found; nil
	// for a live snapshot. Index.Location answers from them.
	Locations *Locations `json:"locations,omitempty"`
	// ServedAPIs are the group/versions the API server's discovery
	// listed ("custom.metrics.k8s.io/v1beta2", "v1"), sorted; nil when
	// unknown (files, manifests, or discovery refused): whether an
	// autoscaler's metrics API exists is then unknown, never "no".
	ServedAPIs []string `json:"servedAPIs,omitempty"`
	// DeprecatedRequests are the deprecated APIs the API server counted
	// requests to since it started (its apiserver_requested_deprecated_apis
	// metric), sorted; nil when /metrics could not be read (files,
	// manifests, or RBAC refused it), empty when it was and nothing
	// deprecated was requested.
	DeprecatedRequests *[]DeprecatedAPIRequest `json:"deprecatedRequests,omitempty"`
}

// DeprecatedAPIRequest is one series of the API server's
// apiserver_requested_deprecated_apis gauge: some client requested this
// resource in this version. The metric does not say which client.
type DeprecatedAPIRequest struct {
	Group       string `json:"group,omitempty"`
	Version     string `json:"version"`
	Resource    string `json:"resource"`
	Subresource string `json:"subresource,omitempty"`
	// RemovedRelease is the release that removes the version ("1.25"),
	// empty when none is planned.
	RemovedRelease string `json:"removedRelease,omitempty"`
}

// Serves reports whether discovery listed some version of group, and
// whether discovery is known at all.
func (m Meta) Serves(group string) (served, known bool) {
	if m.ServedAPIs == nil {
		return false, false
	}
	for _, gv := range m.ServedAPIs {
		g, _, ok := strings.Cut(gv, "/")
		if !ok {
			g = ""
		}
		if g == group {
			return true, true
		}
	}
	return false, true
}

// KindStatus tells whether one kind was read and, if not, why.
type KindStatus struct {
	Group      string `json:"group,omitempty"`
	Version    string `json:"version"`
	Resource   string `json:"resource"`
	Kind       string `json:"kind"`
	Namespaced bool   `json:"namespaced"`
	Count      int    `json:"count"`
	Error      string `json:"error,omitempty"` // set when the kind could not be listed
}

// Listed reports whether the kind was read successfully.
func (k KindStatus) Listed() bool { return k.Error == "" }

// GroupResource names the kind the way kubectl does: "deployments.apps".
func (k KindStatus) GroupResource() string {
	if k.Group == "" {
		return k.Resource
	}
	return k.Resource + "." + k.Group
}

// ObjectRef identifies one object of a kind the snapshot does not model.
type ObjectRef struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// WrittenThrough lists the API versions other than Version that the
	// object's managed fields record writes through (live snapshots).
	WrittenThrough []string `json:"writtenThrough,omitempty"`
}

// compareObjectRefs orders references by kind, then namespace and name.
func compareObjectRefs(a, b ObjectRef) int {
	return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name), cmp.Compare(a.Version, b.Version))
}

// SortObjectRefs puts references in their canonical order, the one the
// saved format uses, so that equal snapshots are saved as equal bytes
// whatever order their objects were read in.
func SortObjectRefs(refs []ObjectRef) { slices.SortFunc(refs, compareObjectRefs) }

// UnlistedKinds returns the namespaced kinds that could not be read, so a
// caller can say "unknown" instead of "empty".
func (s *Snapshot) UnlistedKinds() []KindStatus {
	var out []KindStatus
	for _, k := range s.Meta.Kinds {
		if k.Namespaced && !k.Listed() {
			out = append(out, k)
		}
	}
	return out
}

// SetKind records the status of a kind, replacing an earlier record of it.
func (s *Snapshot) SetKind(k KindStatus) {
	for i := range s.Meta.Kinds {
		if s.Meta.Kinds[i].Group == k.Group && s.Meta.Kinds[i].Resource == k.Resource {
			s.Meta.Kinds[i] = k
			return
		}
	}
	s.Meta.Kinds = append(s.Meta.Kinds, k)
	sort.Slice(s.Meta.Kinds, func(i, j int) bool {
		return s.Meta.Kinds[i].GroupResource() < s.Meta.Kinds[j].GroupResource()
	})
}
