// Package synth generates synthetic clusters of any size, deterministic by
// seed, for benchmarks and scale tests: node pools with DigitalOcean labels
// and capacities, namespaces of Deployments with their ReplicaSets and
// Pods, Services with EndpointSlices, ConfigMaps, Secrets, claims and
// volumes, HPAs and NetworkPolicies, and a known set of planted faults, so
// that a test can say exactly what the audit must find.
package synth

import (
	"fmt"
	"math/rand/v2"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/purserhq/purser/internal/snapshot"
)

// Config sizes a generated cluster. Nodes and namespaces follow the pod
// count when zero, in the proportions of Kubernetes' own limits (5,000
// nodes, 10,000 namespaces for 150,000 pods).
type Config struct {
	Pods       int
	Nodes      int
	Namespaces int
	Seed       uint64
}

// Faults counts what was planted, by the audit check that must find it.
type Faults map[string]int

// The checks that find the planted faults.
const (
	CheckPodPending       = "pod-pending"
	CheckPodCrashLoop     = "pod-crashloop"
	CheckServiceEndpoints = "service-no-endpoints"
	CheckNamespaceEmpty   = "namespace-empty"
)

// pool is one DigitalOcean node pool shape.
type pool struct {
	name, size string
	cpu, memGi int64
}

func pools() [3]pool {
	return [...]pool{
		{"general", "s-8vcpu-16gb", 8, 16},
		{"cpu", "c-4", 4, 8},
		{"memory", "g-4vcpu-16gb", 4, 16},
	}
}

// collectedAtTime is the generated snapshot's time: fixed, so that ages in
// findings, and the snapshot's digest, do not depend on the clock.
func collectedAtTime() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) }

// Generate builds the cluster c describes and counts its planted faults.
func Generate(c Config) (*snapshot.Snapshot, Faults) {
	g := newGen(c)
	g.nodes()
	g.namespaces()
	return g.s, g.faults
}

type gen struct {
	c      Config
	rng    *rand.Rand
	s      *snapshot.Snapshot
	faults Faults
	uid    int
	next   int // next node to place a pod on, round robin
	pods   int // pods generated so far
	ips    int
}

func newGen(c Config) *gen {
	if c.Pods < 1 {
		c.Pods = 1
	}
	if c.Nodes == 0 {
		c.Nodes = max(3, c.Pods/30)
	}
	if c.Namespaces == 0 {
		c.Namespaces = max(2, c.Pods/15)
	}
	s := &snapshot.Snapshot{Meta: snapshot.Meta{FormatVersion: snapshot.FormatVersion, Source: fmt.Sprintf("synthetic-%d-pods-seed-%d", c.Pods, c.Seed),
		CollectedAt: collectedAtTime(), ServerVersion: "v1.34.1", Context: "synthetic"}}
	for _, k := range snapshot.ModelledKinds() {
		s.Meta.Kinds = append(s.Meta.Kinds, k.Status())
	}
	return &gen{c: c, rng: rand.New(rand.NewPCG(c.Seed, 0x5ca1e)), s: s, faults: Faults{}}
}

func (g *gen) newUID() types.UID {
	g.uid++
	return types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", g.uid))
}

func (g *gen) meta(ns, name string, lbl map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, UID: g.newUID(), Labels: lbl, ResourceVersion: fmt.Sprint(g.uid),
		CreationTimestamp: metav1.NewTime(collectedAtTime().Add(-time.Duration(24+g.rng.IntN(24*60)) * time.Hour))}
}

func (g *gen) nodes() {
	for i := range g.c.Nodes {
		ps := pools()
		p := ps[i%len(ps)]
		name := fmt.Sprintf("%s-%s", p.name, nodeSuffix(i/len(ps)))
		m := g.meta("", name, map[string]string{
			"doks.digitalocean.com/node-pool":    p.name,
			"doks.digitalocean.com/node-pool-id": fmt.Sprintf("pool-%s-id", p.name),
			corev1.LabelInstanceTypeStable:       p.size,
			corev1.LabelTopologyRegion:           "fra1",
			corev1.LabelHostname:                 name,
			corev1.LabelOSStable:                 "linux",
			corev1.LabelArchStable:               "amd64",
		})
		m.Namespace = ""
		capacity := corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewQuantity(p.cpu, resource.DecimalSI),
			corev1.ResourceMemory: *resource.NewQuantity(p.memGi<<30, resource.BinarySI),
			corev1.ResourcePods:   *resource.NewQuantity(110, resource.DecimalSI),
		}
		// DOKS reserves part of each node for the system.
		alloc := corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewMilliQuantity(p.cpu*1000-390, resource.DecimalSI),
			corev1.ResourceMemory: *resource.NewQuantity(p.memGi<<30*85/100, resource.BinarySI),
			corev1.ResourcePods:   *resource.NewQuantity(110, resource.DecimalSI),
		}
		g.s.Nodes = append(g.s.Nodes, corev1.Node{ObjectMeta: m,
			Spec: corev1.NodeSpec{ProviderID: "digitalocean://" + fmt.Sprint(400000000+i)},
			Status: corev1.NodeStatus{Capacity: capacity, Allocatable: alloc,
				Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("10.114.%d.%d", i>>8&0xff, i&0xff)},
					{Type: corev1.NodeHostName, Address: name}},
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}},
				NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.34.1", OperatingSystem: "linux", Architecture: "amd64"}}})
	}
}

// nodeSuffix is a DOKS-like node name suffix: "a1b2c".
func nodeSuffix(i int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 5)
	for k := range b {
		b[k] = letters[i%len(letters)]
		i /= len(letters)
	}
	return string(b)
}

func (g *gen) namespaces() {
	// One namespace in 50 (at least one) is planted empty; the others share
	// the pods.
	empty := max(1, g.c.Namespaces/50)
	full := max(1, g.c.Namespaces-empty)
	for i := range g.c.Namespaces {
		// Products in three environments, named as teams name them, so
		// that the product and environment plans have work to do.
		env := [...]string{"production", "staging", "dev"}[i%3]
		name := fmt.Sprintf("app%04d-%s", i/3, env)
		m := g.meta("", name, map[string]string{corev1.LabelMetadataName: name, "team": fmt.Sprintf("t%d", i/3%97), "environment": env})
		g.s.Namespaces = append(g.s.Namespaces, corev1.Namespace{ObjectMeta: m, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}})
		// What Kubernetes puts in every namespace.
		g.s.ServiceAccounts = append(g.s.ServiceAccounts, corev1.ServiceAccount{ObjectMeta: g.meta(name, "default", nil)})
		g.s.ConfigMaps = append(g.s.ConfigMaps, corev1.ConfigMap{ObjectMeta: g.meta(name, "kube-root-ca.crt", nil)})
		if i >= full {
			g.faults[CheckNamespaceEmpty]++
			continue
		}
		// Spread the pods evenly: namespace i gets its share of what is left.
		want := (g.c.Pods - g.pods) / (full - i)
		g.namespace(name, want)
	}
}

// namespace fills ns with Deployments totalling about pods replicas, and
// its Services, config, storage, autoscalers and network policy.
func (g *gen) namespace(ns string, pods int) {
	np := networkingv1.NetworkPolicy{ObjectMeta: g.meta(ns, "allow-same-namespace", nil),
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}}}}
	g.s.NetworkPolicies = append(g.s.NetworkPolicies, np)
	for d := 0; pods > 0; d++ {
		replicas := min(pods, 2+g.rng.IntN(4))
		if pods-replicas < 2 {
			// A single replica would be a fault of its own
			// (deployment-single-replica-no-pdb): the rest joins this one.
			replicas = pods
		}
		pods -= replicas
		g.deployment(ns, fmt.Sprintf("svc-%d", d), replicas)
	}
}

func (g *gen) deployment(ns, app string, replicas int) {
	lbl := map[string]string{"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": ns}
	cpu := int64(25 * (1 + g.rng.IntN(8)))   // 25m to 200m
	mem := int64(64*(1+g.rng.IntN(8))) << 20 // 64Mi to 512Mi
	cm := app + "-config"
	g.s.ConfigMaps = append(g.s.ConfigMaps, corev1.ConfigMap{ObjectMeta: g.meta(ns, cm, map[string]string{"app.kubernetes.io/name": app}),
		Data: map[string]string{"LOG_LEVEL": "info"}})
	secret := app + "-credentials"
	g.s.Secrets = append(g.s.Secrets, corev1.Secret{ObjectMeta: g.meta(ns, secret, map[string]string{"app.kubernetes.io/name": app}),
		Type: corev1.SecretTypeOpaque})
	claim := ""
	if g.rng.IntN(10) == 0 {
		claim = app + "-data"
		g.volume(ns, claim)
	}
	spec := g.podSpec(app, cm, secret, claim, cpu, mem)
	hash := fmt.Sprintf("%x", 0x5f00000+g.uid)[:7]
	dm := g.meta(ns, app, lbl)
	dm.Generation = 1
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: lbl}, Spec: spec}
	g.s.Deployments = append(g.s.Deployments, appsv1.Deployment{ObjectMeta: dm,
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(replicas)), Selector: &metav1.LabelSelector{MatchLabels: lbl}, Template: tmpl},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: int32(replicas), ReadyReplicas: int32(replicas),
			AvailableReplicas: int32(replicas), UpdatedReplicas: int32(replicas)}})
	rsLbl := map[string]string{"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": ns, "pod-template-hash": hash}
	rm := g.meta(ns, app+"-"+hash, rsLbl)
	rm.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: app, UID: dm.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
	rsTmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: rsLbl}, Spec: spec}
	g.s.ReplicaSets = append(g.s.ReplicaSets, appsv1.ReplicaSet{ObjectMeta: rm,
		Spec:   appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(replicas)), Selector: &metav1.LabelSelector{MatchLabels: rsLbl}, Template: rsTmpl},
		Status: appsv1.ReplicaSetStatus{Replicas: int32(replicas), ReadyReplicas: int32(replicas), AvailableReplicas: int32(replicas)}})

	// Planted: one pod in 200 asks for more CPU than any node has and
	// stays Pending; one in 300 crash loops.
	var endpoints []discoveryv1.Endpoint
	for range replicas {
		g.pods++
		pm := g.meta(ns, fmt.Sprintf("%s-%s-%s", app, hash, nodeSuffix(g.uid)), rsLbl)
		pm.GenerateName = app + "-" + hash + "-"
		pm.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rm.Name, UID: rm.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
		p := corev1.Pod{ObjectMeta: pm, Spec: *spec.DeepCopy()}
		switch {
		case g.pods%200 == 0:
			g.faults[CheckPodPending]++
			p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = *resource.NewQuantity(64, resource.DecimalSI)
			p.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU] = *resource.NewQuantity(64, resource.DecimalSI)
			p.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBurstable,
				Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
					Message: fmt.Sprintf("0/%d nodes are available: %d Insufficient cpu.", len(g.s.Nodes), len(g.s.Nodes))}}}
		default:
			node := &g.s.Nodes[g.next%len(g.s.Nodes)]
			g.next++
			p.Spec.NodeName = node.Name
			g.ips++
			ip := fmt.Sprintf("10.%d.%d.%d", 100+g.ips>>16&0xff, g.ips>>8&0xff, g.ips&0xff)
			started := metav1.NewTime(pm.CreationTimestamp.Add(20 * time.Second))
			// No image ID: the slim model drops it for pinned tags, and
			// the generated objects are what a loaded snapshot holds.
			cs := corev1.ContainerStatus{Name: "app", Ready: true, Started: ptr.To(true), Image: spec.Containers[0].Image,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}}
			ready := corev1.ConditionTrue
			if g.pods%300 == 0 {
				g.faults[CheckPodCrashLoop]++
				ready = corev1.ConditionFalse
				cs.Ready, cs.Started, cs.RestartCount = false, ptr.To(false), 17
				cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
					Message: "back-off 5m0s restarting failed container=app"}}
				cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error",
					StartedAt: metav1.NewTime(collectedAtTime().Add(-6 * time.Minute)), FinishedAt: metav1.NewTime(collectedAtTime().Add(-5 * time.Minute))}}
			}
			p.Status = corev1.PodStatus{Phase: corev1.PodRunning, HostIP: node.Status.Addresses[0].Address, PodIP: ip, QOSClass: corev1.PodQOSBurstable,
				StartTime: &started, ContainerStatuses: []corev1.ContainerStatus{cs},
				Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
					{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
					{Type: corev1.ContainersReady, Status: ready}, {Type: corev1.PodReady, Status: ready}}}
			if ready == corev1.ConditionTrue {
				endpoints = append(endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, NodeName: ptr.To(node.Name),
					Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
					TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: pm.Name, UID: pm.UID}})
			}
		}
		g.s.Pods = append(g.s.Pods, p)
	}
	g.service(ns, app, lbl, endpoints)
	if replicas >= 4 {
		g.s.HPAs = append(g.s.HPAs, autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: g.meta(ns, app, nil),
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: app},
				MinReplicas:    ptr.To(int32(replicas)), MaxReplicas: int32(replicas * 3),
				Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
					Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(int32(70))}}}}},
			Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: int32(replicas), DesiredReplicas: int32(replicas)}})
	}
}

// service exposes app; about one Service in 100 has a selector with a
// typo, a planted fault that leaves it without pods and without endpoints
// (on a cluster service-no-endpoints reports it; the selector check is for
// manifests).
func (g *gen) service(ns, app string, lbl map[string]string, endpoints []discoveryv1.Endpoint) {
	sel := map[string]string{"app.kubernetes.io/name": app}
	m := g.meta(ns, app, map[string]string{"app.kubernetes.io/name": app})
	if g.uid%100 == 0 {
		sel = map[string]string{"app.kubernetes.io/name": app + "-v2"}
		endpoints = nil
	}
	if len(endpoints) == 0 {
		g.faults[CheckServiceEndpoints]++
	}
	g.s.Services = append(g.s.Services, corev1.Service{ObjectMeta: m,
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: sel, ClusterIP: fmt.Sprintf("10.245.%d.%d", g.uid>>8&0xff, g.uid&0xff),
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}}}})
	esm := g.meta(ns, app+"-"+nodeSuffix(g.uid), map[string]string{discoveryv1.LabelServiceName: app, discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io"})
	esm.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: app, UID: m.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
	g.s.EndpointSlices = append(g.s.EndpointSlices, discoveryv1.EndpointSlice{ObjectMeta: esm, AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: endpoints, Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(int32(8080)), Protocol: ptr.To(corev1.ProtocolTCP)}}})
}

// volume creates a bound claim and its volume.
func (g *gen) volume(ns, claim string) {
	size := resource.MustParse(fmt.Sprintf("%dGi", 5*(1+g.rng.IntN(10))))
	cm := g.meta(ns, claim, nil)
	pvName := "pvc-" + string(cm.UID)
	g.s.PVCs = append(g.s.PVCs, corev1.PersistentVolumeClaim{ObjectMeta: cm,
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: ptr.To("do-block-storage"), VolumeName: pvName,
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}}},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, Capacity: corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}}})
	pm := g.meta("", pvName, nil)
	g.s.PVs = append(g.s.PVs, corev1.PersistentVolume{ObjectMeta: pm,
		Spec: corev1.PersistentVolumeSpec{Capacity: corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete, StorageClassName: "do-block-storage",
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: ns, Name: claim, UID: cm.UID},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "dobs.csi.digitalocean.com",
				VolumeHandle: string(pm.UID)}}},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound}})
}

func (g *gen) podSpec(app, cm, secret, claim string, cpu, mem int64) corev1.PodSpec {
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
		PeriodSeconds: 10}
	spec := corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(int64(10001))},
		Containers: []corev1.Container{{
			Name: "app", Image: fmt.Sprintf("registry.example.com/%s:1.%d.%d", app, g.rng.IntN(9), g.rng.IntN(20)),
			Ports:   []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
			EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm}}}},
			Env: []corev1.EnvVar{{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: "password"}}}},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(cpu, resource.DecimalSI),
					corev1.ResourceMemory: *resource.NewQuantity(mem, resource.BinarySI)},
				Limits: corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(cpu*2, resource.DecimalSI),
					corev1.ResourceMemory: *resource.NewQuantity(mem, resource.BinarySI)},
			},
			ReadinessProbe: probe, LivenessProbe: probe,
			TerminationMessagePath: corev1.TerminationMessagePathDefault, TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			ImagePullPolicy: corev1.PullIfNotPresent,
		}},
		RestartPolicy: corev1.RestartPolicyAlways, DNSPolicy: corev1.DNSClusterFirst, SchedulerName: corev1.DefaultSchedulerName,
		TerminationGracePeriodSeconds: ptr.To(int64(30)),
	}
	if claim != "" {
		spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}}
		spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	}
	return spec
}
