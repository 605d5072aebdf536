package snapshot

import (
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// Ref names one object.
type Ref struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// NoPool is the pool of nodes without any known pool label.
const NoPool = "(none)"

// NodePool returns the pool a node belongs to, from the provider's label.
func NodePool(n *corev1.Node) string {
	// DigitalOcean, EKS, GKE, AKS (two spellings), Karpenter, then a generic label.
	for _, l := range [...]string{
		"doks.digitalocean.com/node-pool",
		"eks.amazonaws.com/nodegroup",
		"cloud.google.com/gke-nodepool",
		"kubernetes.azure.com/agentpool",
		"agentpool",
		"karpenter.sh/nodepool",
		"node.kubernetes.io/pool",
	} {
		if v := n.Labels[l]; v != "" {
			return v
		}
	}
	return NoPool
}

// Index answers the questions engines ask of a snapshot without scanning
// it each time. It is built once and read-only afterwards.
type Index struct {
	S *Snapshot

	namespaces  map[string]*corev1.Namespace
	nodes       map[string]*corev1.Node
	podsByNS    map[string][]*corev1.Pod
	podsByNode  map[string][]*corev1.Pod
	byUID       map[types.UID]Ref
	ownerOf     map[types.UID]metav1.OwnerReference // controller owner of an object, by the object's UID
	uidByRef    map[Ref]types.UID
	users       map[Ref][]Ref // ConfigMap/Secret/PVC/ServiceAccount -> workloads and bare pods using it
	slicesBySvc map[Ref][]int // Service -> indexes into S.EndpointSlices

	contentsOnce sync.Once
	contents     map[string]NamespaceContents
	unlisted     []string

	requestsOnce sync.Once
	requested    map[string]Requests // node -> what its bound pods request

	// Built on first use (location.go): only reports ask.
	locationsOnce sync.Once
	locations     map[Ref]SourceLocation
	objectsOnce   sync.Once
	objects       map[Ref]metav1.Object

	derivedMu sync.Mutex
	derived   map[any]*derivedValue
}

// NewIndex builds the index of s.
func NewIndex(s *Snapshot) *Index {
	ix := &Index{
		S:           s,
		namespaces:  make(map[string]*corev1.Namespace, len(s.Namespaces)),
		nodes:       make(map[string]*corev1.Node, len(s.Nodes)),
		podsByNS:    map[string][]*corev1.Pod{},
		podsByNode:  map[string][]*corev1.Pod{},
		byUID:       map[types.UID]Ref{},
		ownerOf:     map[types.UID]metav1.OwnerReference{},
		uidByRef:    map[Ref]types.UID{},
		users:       map[Ref][]Ref{},
		slicesBySvc: map[Ref][]int{},
	}
	for i := range s.Namespaces {
		ix.namespaces[s.Namespaces[i].Name] = &s.Namespaces[i]
	}
	for i := range s.Nodes {
		ix.nodes[s.Nodes[i].Name] = &s.Nodes[i]
	}
	// workload indexes an object that owns a pod template. References are
	// recorded once owners are known, for top-level objects only: a
	// ReplicaSet's template is its Deployment's, a Job's its CronJob's.
	type templated struct {
		ref  Ref
		obj  metav1.Object
		spec *corev1.PodSpec
	}
	var templates []templated
	workload := func(kind string, o metav1.Object, spec *corev1.PodSpec) {
		ix.addOwned(kind, o)
		templates = append(templates, templated{Ref{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()}, o, spec})
	}
	for i := range s.Pods {
		p := &s.Pods[i]
		ix.podsByNS[p.Namespace] = append(ix.podsByNS[p.Namespace], p)
		if p.Spec.NodeName != "" {
			ix.podsByNode[p.Spec.NodeName] = append(ix.podsByNode[p.Spec.NodeName], p)
		}
		workload("Pod", p, &p.Spec)
	}
	for i := range s.ReplicaSets {
		workload("ReplicaSet", &s.ReplicaSets[i], &s.ReplicaSets[i].Spec.Template.Spec)
	}
	for i := range s.Deployments {
		workload("Deployment", &s.Deployments[i], &s.Deployments[i].Spec.Template.Spec)
	}
	for i := range s.StatefulSets {
		workload("StatefulSet", &s.StatefulSets[i], &s.StatefulSets[i].Spec.Template.Spec)
	}
	for i := range s.DaemonSets {
		workload("DaemonSet", &s.DaemonSets[i], &s.DaemonSets[i].Spec.Template.Spec)
	}
	for i := range s.Jobs {
		workload("Job", &s.Jobs[i], &s.Jobs[i].Spec.Template.Spec)
	}
	for i := range s.CronJobs {
		workload("CronJob", &s.CronJobs[i], &s.CronJobs[i].Spec.JobTemplate.Spec.Template.Spec)
	}
	for _, t := range templates {
		// An owner missing from the snapshot (an operator's custom
		// resource) leaves the object as the top of what Purser sees.
		if c := metav1.GetControllerOf(t.obj); c == nil || ix.byUID[c.UID] == (Ref{}) {
			ix.addUses(t.ref, t.spec)
		}
	}
	for i := range s.EndpointSlices {
		es := &s.EndpointSlices[i]
		if svc := es.Labels["kubernetes.io/service-name"]; svc != "" {
			r := Ref{Kind: "Service", Namespace: es.Namespace, Name: svc}
			ix.slicesBySvc[r] = append(ix.slicesBySvc[r], i)
		}
	}
	for r, us := range ix.users {
		sort.Slice(us, func(i, j int) bool { return us[i].String() < us[j].String() })
		ix.users[r] = dedupRefs(us)
	}
	return ix
}

func dedupRefs(rs []Ref) []Ref {
	out := rs[:0]
	for i, r := range rs {
		if i == 0 || r != rs[i-1] {
			out = append(out, r)
		}
	}
	return out
}

func (ix *Index) addOwned(kind string, o metav1.Object) {
	r := Ref{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()}
	if uid := o.GetUID(); uid != "" {
		ix.byUID[uid] = r
		ix.uidByRef[r] = uid
		if c := metav1.GetControllerOf(o); c != nil {
			ix.ownerOf[uid] = *c
		}
	}
}

func (ix *Index) addUses(user Ref, spec *corev1.PodSpec) {
	for _, r := range PodSpecReferences(user.Namespace, spec) {
		ix.users[r] = append(ix.users[r], user)
	}
}

// PodSpecReferences lists the ConfigMaps, Secrets, PVCs and the
// ServiceAccount a pod spec refers to.
func PodSpecReferences(ns string, spec *corev1.PodSpec) []Ref {
	var out []Ref
	add := func(kind, name string) {
		if name != "" {
			out = append(out, Ref{Kind: kind, Namespace: ns, Name: name})
		}
	}
	sa := spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	add("ServiceAccount", sa)
	for _, s := range spec.ImagePullSecrets {
		add("Secret", s.Name)
	}
	for _, v := range spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			add("ConfigMap", v.ConfigMap.Name)
		case v.Secret != nil:
			add("Secret", v.Secret.SecretName)
		case v.PersistentVolumeClaim != nil:
			add("PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName)
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.ConfigMap != nil {
					add("ConfigMap", src.ConfigMap.Name)
				}
				if src.Secret != nil {
					add("Secret", src.Secret.Name)
				}
			}
		}
	}
	containers := make([]corev1.Container, 0, len(spec.InitContainers)+len(spec.Containers))
	containers = append(containers, spec.InitContainers...)
	containers = append(containers, spec.Containers...)
	for _, c := range containers {
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				add("ConfigMap", e.ConfigMapRef.Name)
			}
			if e.SecretRef != nil {
				add("Secret", e.SecretRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if e.ValueFrom.ConfigMapKeyRef != nil {
				add("ConfigMap", e.ValueFrom.ConfigMapKeyRef.Name)
			}
			if e.ValueFrom.SecretKeyRef != nil {
				add("Secret", e.ValueFrom.SecretKeyRef.Name)
			}
		}
	}
	return out
}

// Namespace returns the namespace object, or nil.
func (ix *Index) Namespace(name string) *corev1.Namespace { return ix.namespaces[name] }

// Node returns the node object, or nil.
func (ix *Index) Node(name string) *corev1.Node { return ix.nodes[name] }

// PodsInNamespace returns the pods of a namespace.
func (ix *Index) PodsInNamespace(ns string) []*corev1.Pod { return ix.podsByNS[ns] }

// PodsOnNode returns the pods bound to a node.
func (ix *Index) PodsOnNode(node string) []*corev1.Pod { return ix.podsByNode[node] }

// NodeRequests returns what the pods bound to a node request, as the
// scheduler counts them: every pod that is neither Succeeded nor Failed
// holds its requests and a pod slot. The sums are computed once, on the
// first call, so that checks asking about every node for every pending pod
// do not add the same requests up again, and engines that never ask pay
// nothing when the index is built. A negative request counts as nothing
// and a sum beyond int64 stops at its largest value (AddSat).
func (ix *Index) NodeRequests(node string) Requests {
	ix.requestsOnce.Do(ix.sumRequests)
	return ix.requested[node]
}

func (ix *Index) sumRequests() {
	ix.requested = make(map[string]Requests, len(ix.podsByNode))
	for node, pods := range ix.podsByNode {
		var r Requests
		for _, p := range pods {
			if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				continue
			}
			// Clamped and saturating: a snapshot built in code is not
			// validated, and eight pods of 1Ei would wrap a plain sum
			// into a negative one, leaving a full node looking empty.
			cpu, mem := PodRequestsMilli(&p.Spec)
			r = r.Add(Requests{MilliCPU: cpu, MemoryBytes: mem, Pods: 1})
		}
		ix.requested[node] = r
	}
}

// PodsMatching returns the pods of ns whose labels match sel. An empty
// selector matches nothing, as for a Service.
func (ix *Index) PodsMatching(ns string, sel map[string]string) []*corev1.Pod {
	if len(sel) == 0 {
		return nil
	}
	s := labels.SelectorFromSet(sel)
	var out []*corev1.Pod
	for _, p := range ix.podsByNS[ns] {
		if s.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// PodsSelectedBy returns the pods of ns matched by a label selector.
func (ix *Index) PodsSelectedBy(ns string, ls *metav1.LabelSelector) []*corev1.Pod {
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil || sel.Empty() {
		return nil
	}
	var out []*corev1.Pod
	for _, p := range ix.podsByNS[ns] {
		if sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// Controller returns the controller owning obj (Pod → ReplicaSet, Job →
// CronJob), if it is in the snapshot.
func (ix *Index) Controller(obj metav1.Object) (Ref, bool) {
	c := metav1.GetControllerOf(obj)
	if c == nil {
		return Ref{}, false
	}
	if r, ok := ix.byUID[c.UID]; ok {
		return r, true
	}
	// Owner not in the snapshot (a kind Purser does not model): still name it.
	return Ref{Kind: c.Kind, Namespace: obj.GetNamespace(), Name: c.Name}, false
}

// TopOwner follows the controller chain to its root: a Pod's Deployment,
// a Job's CronJob. An object without a controller is its own top owner; an
// owner missing from the snapshot ends the chain under its own name.
func (ix *Index) TopOwner(kind string, obj metav1.Object) Ref {
	cur := Ref{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
	c := metav1.GetControllerOf(obj)
	for i := 0; c != nil && i < 8; i++ { // the bound guards against cycles
		next, ok := ix.byUID[c.UID]
		if !ok {
			return Ref{Kind: c.Kind, Namespace: cur.Namespace, Name: c.Name}
		}
		cur = next
		oc, ok := ix.ownerOf[c.UID]
		if !ok {
			break
		}
		c = &oc
	}
	return cur
}

// UsersOf returns the workloads (and bare pods) whose pod templates refer
// to the ConfigMap, Secret, PVC or ServiceAccount r.
func (ix *Index) UsersOf(r Ref) []Ref { return ix.users[r] }

// EndpointSlicesOf returns the EndpointSlices of a Service.
func (ix *Index) EndpointSlicesOf(ns, service string) []int {
	return ix.slicesBySvc[Ref{Kind: "Service", Namespace: ns, Name: service}]
}

// ReadyEndpoints counts the ready endpoints of a Service over its slices.
func (ix *Index) ReadyEndpoints(ns, service string) int {
	n := 0
	for _, i := range ix.EndpointSlicesOf(ns, service) {
		for _, ep := range ix.S.EndpointSlices[i].Endpoints {
			if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
				n++
			}
		}
	}
	return n
}
