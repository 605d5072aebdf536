// Package scenario holds demo clusters as data. BlueOcean is the cluster of
// the seed audit and strategy: its node pools, namespaces, workloads and
// faults. The same objects load into the local control plane and, recorded
// from there, ship as the embedded snapshot behind --demo.
package scenario

import (
	"fmt"
	"hash/fnv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Pool is a node pool: a number of nodes of one instance type.
type Pool struct {
	Name         string
	InstanceType string
	Count        int
	CPU          int // vCPUs
	MemoryGiB    int
}

// Stage orders loading: objects of a stage are created only once the pods
// of the previous stages are scheduled (or known unschedulable). The order
// is what makes the Pending DaemonSet pod reproducible: the infra node is
// filled before node-exporter asks for room on it.
type Stage int

const (
	// StageBase holds namespaces, storage, nodes and cluster-wide objects.
	StageBase Stage = iota
	// StageSystem holds kube-system's DaemonSets and Deployments.
	StageSystem
	// StageApps holds every other workload.
	StageApps
	// StageLate holds what must find the nodes already full.
	StageLate
)

// Object is one object of the scenario and the stage it loads in.
type Object struct {
	Stage  Stage
	Object runtime.Object
}

// Scenario is a demo cluster as a list of objects.
type Scenario struct {
	Name    string
	Pools   []Pool
	Objects []Object
	// ExpectedPods is the number of pods the cluster converges to.
	ExpectedPods int
}

// labelStyle is how a workload's pods are labelled: by hand (`app: x`) or
// by a Helm chart (`app.kubernetes.io/name: x`).
type labelStyle int

const (
	handLabels labelStyle = iota
	helmLabels
)

// app describes one workload and what goes with it.
type app struct {
	ns, name  string
	kind      string // Deployment (default), StatefulSet, DaemonSet, CronJob, Job
	replicas  int32
	pool      string // node pool; "" for DaemonSets (every node)
	image     string
	cpu, mem  string // requests; limits are twice as much
	port      int32
	component string // app.kubernetes.io/component, when the chart sets one

	labels  labelStyle // how pods are labelled
	release string     // Helm release, for helm-labelled apps and services

	service     corev1.ServiceType // "" for no Service
	svcName     string             // default: name
	svcSelector labelStyle         // how the Service selects; differs from labels for the seed's mismatches
	svcPortName string

	volumes   []appVolume
	env       []corev1.EnvVar
	envFrom   []string // ConfigMaps
	stage     Stage
	podAnnots map[string]string
	podLabels map[string]string // extra pod labels
	asRoot    bool
	noProbes  bool
	schedule  string // CronJob
	suspended bool
	note      string // kept as an annotation: why this object is the way it is
}

type appVolume struct {
	claim string
	mount string
}

// labelsFor returns the pod labels of an app in a style.
func (a app) labelsFor(style labelStyle) map[string]string {
	switch style {
	case helmLabels:
		l := map[string]string{"app.kubernetes.io/name": a.name, "app.kubernetes.io/instance": a.releaseName()}
		if a.component != "" {
			l["app.kubernetes.io/component"] = a.component
		}
		return l
	default:
		l := map[string]string{"app": a.name}
		if a.component != "" {
			l["component"] = a.component
		}
		return l
	}
}

func (a app) releaseName() string {
	if a.release != "" {
		return a.release
	}
	return a.name
}

// metaLabels are the object labels: Helm's bookkeeping labels for charted
// apps, plus the product labels every object of the namespace carries.
func (a app) metaLabels(style labelStyle, extra map[string]string) map[string]string {
	l := map[string]string{}
	for k, v := range extra {
		l[k] = v
	}
	for k, v := range a.labelsFor(style) {
		l[k] = v
	}
	if style == helmLabels {
		l["app.kubernetes.io/managed-by"] = "Helm"
		l["helm.sh/chart"] = a.name + "-1.0.0"
	}
	return l
}

func (a app) helmAnnotations(style labelStyle) map[string]string {
	if style != helmLabels {
		return nil
	}
	return map[string]string{"meta.helm.sh/release-name": a.releaseName(), "meta.helm.sh/release-namespace": a.ns}
}

func q(s string) resource.Quantity { return resource.MustParse(s) }

func (a app) podTemplate(nsLabels map[string]string) corev1.PodTemplateSpec {
	cpu, mem := q(a.cpu), q(a.mem)
	limCPU, limMem := cpu.DeepCopy(), mem.DeepCopy()
	limCPU.Add(cpu)
	limMem.Add(mem)
	c := corev1.Container{
		Name:  a.name,
		Image: a.image,
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: cpu, corev1.ResourceMemory: mem},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: limCPU, corev1.ResourceMemory: limMem},
		},
		Env: a.env,
	}
	for _, cm := range a.envFrom {
		c.EnvFrom = append(c.EnvFrom, corev1.EnvFromSource{ConfigMapRef: &corev1.ConfigMapEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: cm}}})
	}
	if a.port != 0 {
		name := a.svcPortName
		if name == "" {
			name = "http"
		}
		c.Ports = []corev1.ContainerPort{{Name: name, ContainerPort: a.port, Protocol: corev1.ProtocolTCP}}
		if !a.noProbes {
			probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString(name)}},
				PeriodSeconds: 10}
			c.ReadinessProbe, c.LivenessProbe = probe, probe.DeepCopy()
		}
	}
	if !a.asRoot {
		c.SecurityContext = &corev1.SecurityContext{
			RunAsNonRoot:             ptr.To(true),
			RunAsUser:                ptr.To[int64](10001),
			AllowPrivilegeEscalation: ptr.To(false),
		}
	}
	spec := corev1.PodSpec{Containers: []corev1.Container{c}, TerminationGracePeriodSeconds: ptr.To[int64](30)}
	if a.pool != "" {
		spec.NodeSelector = map[string]string{poolLabel: a.pool}
	}
	if a.kind == "DaemonSet" {
		// DaemonSets run on every node, as DOKS's own and the charts' do.
		spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	}
	if a.kind == "CronJob" || a.kind == "Job" {
		spec.RestartPolicy = corev1.RestartPolicyOnFailure
	}
	for i, v := range a.volumes {
		vn := fmt.Sprintf("data-%d", i)
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: vn, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.claim}}})
		spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: vn, MountPath: v.mount})
	}
	podLabels := a.metaLabels(a.labels, nsLabels)
	for k, v := range a.podLabels {
		podLabels[k] = v
	}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: a.podAnnots},
		Spec:       spec,
	}
}

const poolLabel = "doks.digitalocean.com/node-pool"

// objects returns the workload, its Service and the PDB that goes with it.
func (a app) objects(nsLabels map[string]string) []Object {
	if a.kind == "" {
		a.kind = "Deployment"
	}
	if a.image == "" {
		a.image = "registry.digitalocean.com/blueocean/" + a.name + ":1.4.2"
	}
	tpl := a.podTemplate(nsLabels)
	sel := &metav1.LabelSelector{MatchLabels: a.labelsFor(a.labels)}
	meta := metav1.ObjectMeta{Name: a.name, Namespace: a.ns, Labels: a.metaLabels(a.labels, nsLabels),
		Annotations: a.helmAnnotations(a.labels)}
	if a.note != "" {
		meta.Annotations = withAnnotation(meta.Annotations, "blueocean.purser.dev/note", a.note)
	}
	stage := a.stage
	if stage == StageBase {
		stage = StageApps
	}
	var out []Object
	switch a.kind {
	case "Deployment":
		out = append(out, Object{stage, &appsv1.Deployment{TypeMeta: tm("apps/v1", "Deployment"), ObjectMeta: meta,
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To(a.replicas), Selector: sel, Template: tpl}}})
	case "StatefulSet":
		out = append(out, Object{stage, &appsv1.StatefulSet{TypeMeta: tm("apps/v1", "StatefulSet"), ObjectMeta: meta,
			Spec: appsv1.StatefulSetSpec{Replicas: ptr.To(a.replicas), Selector: sel, Template: tpl, ServiceName: a.serviceName()}}})
	case "DaemonSet":
		out = append(out, Object{stage, &appsv1.DaemonSet{TypeMeta: tm("apps/v1", "DaemonSet"), ObjectMeta: meta,
			Spec: appsv1.DaemonSetSpec{Selector: sel, Template: tpl}}})
	case "CronJob":
		out = append(out, Object{stage, &batchv1.CronJob{TypeMeta: tm("batch/v1", "CronJob"), ObjectMeta: meta,
			Spec: batchv1.CronJobSpec{Schedule: a.schedule, Suspend: ptr.To(a.suspended),
				JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tpl}}}}})
	case "Job":
		out = append(out, Object{stage, &batchv1.Job{TypeMeta: tm("batch/v1", "Job"), ObjectMeta: meta,
			Spec: batchv1.JobSpec{Template: tpl, BackoffLimit: ptr.To[int32](0)}}})
	default:
		panic("scenario: unknown kind " + a.kind)
	}
	if a.service != "" {
		svcStyle := a.svcSelector
		svcMeta := metav1.ObjectMeta{Name: a.serviceName(), Namespace: a.ns, Labels: a.metaLabels(svcStyle, nsLabels),
			Annotations: a.helmAnnotations(svcStyle)}
		if svcStyle != a.labels {
			svcMeta.Annotations = withAnnotation(svcMeta.Annotations, "blueocean.purser.dev/note",
				"seed fault: the Service selects with one label convention while the pods carry the other")
		}
		portName := a.svcPortName
		if portName == "" {
			portName = "http"
		}
		port := a.port
		if a.service == corev1.ServiceTypeLoadBalancer {
			port = 80
		}
		out = append(out, Object{StageApps, &corev1.Service{TypeMeta: tm("v1", "Service"), ObjectMeta: svcMeta,
			Spec: corev1.ServiceSpec{Type: a.service, Selector: a.labelsFor(svcStyle),
				Ports: []corev1.ServicePort{{Name: portName, Port: port, TargetPort: intstr.FromString(portName), Protocol: corev1.ProtocolTCP}}}}})
	}
	if a.kind == "Deployment" && a.replicas >= 2 {
		out = append(out, Object{StageApps, &policyv1.PodDisruptionBudget{TypeMeta: tm("policy/v1", "PodDisruptionBudget"),
			ObjectMeta: metav1.ObjectMeta{Name: a.name, Namespace: a.ns, Labels: a.metaLabels(a.labels, nsLabels)},
			Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(1)), Selector: sel}}})
	}
	return out
}

func (a app) serviceName() string {
	if a.svcName != "" {
		return a.svcName
	}
	return a.name
}

// podCount is how many pods the app has once the cluster settles.
func (a app) podCount(nodes int) int {
	switch a.kind {
	case "DaemonSet":
		return nodes
	case "CronJob":
		return 0
	case "Job":
		return 1
	default:
		return int(a.replicas)
	}
}

func withAnnotation(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

func tm(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

// nodeName gives DOKS-like node names ("applications-7xk2p") that are the
// same on every run.
func nodeName(pool string, i int) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s-%d", pool, i)
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	v := h.Sum32()
	b := make([]byte, 5)
	for j := range b {
		b[j] = alphabet[v%uint32(len(alphabet))]
		v /= uint32(len(alphabet))
	}
	return pool + "-" + string(b)
}

// nodes returns the Node objects of a pool. KWOK plays the kubelet for
// nodes annotated kwok.x-k8s.io/node=fake.
func (p Pool) nodes(region string) []Object {
	var out []Object
	for i := range p.Count {
		name := nodeName(p.Name, i)
		capacity := corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewQuantity(int64(p.CPU), resource.DecimalSI),
			corev1.ResourceMemory: q(fmt.Sprintf("%dGi", p.MemoryGiB)),
			corev1.ResourcePods:   q("110"),
		}
		// DOKS reserves part of each Droplet for the system; the figures
		// follow its published allocatable: 100m CPU per node plus about a
		// fifth of the memory.
		alloc := corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewMilliQuantity(int64(p.CPU)*1000-100, resource.DecimalSI),
			corev1.ResourceMemory: *resource.NewQuantity(int64(p.MemoryGiB)*(1<<30)*4/5, resource.BinarySI),
			corev1.ResourcePods:   q("110"),
		}
		out = append(out, Object{StageBase, &corev1.Node{
			TypeMeta: tm("v1", "Node"),
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
				Labels: map[string]string{
					poolLabel:                            p.Name,
					"doks.digitalocean.com/node-pool-id": fmt.Sprintf("%08x-blue-ocean-pool-%s", fnv32(p.Name), p.Name),
					"node.kubernetes.io/instance-type":   p.InstanceType,
					"beta.kubernetes.io/instance-type":   p.InstanceType,
					"topology.kubernetes.io/region":      region,
					"kubernetes.io/hostname":             name,
					"kubernetes.io/os":                   "linux",
					"kubernetes.io/arch":                 "amd64",
					"type":                               "kwok",
				},
			},
			Spec: corev1.NodeSpec{ProviderID: "digitalocean://" + fmt.Sprint(fnv32(name))},
			Status: corev1.NodeStatus{
				Capacity:    capacity,
				Allocatable: alloc,
				NodeInfo:    corev1.NodeSystemInfo{KubeletVersion: "v1.34.4", OperatingSystem: "linux", Architecture: "amd64"},
				Phase:       corev1.NodeRunning,
			},
		}})
	}
	return out
}

func fnv32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// Typed constructors for the remaining kinds keep blueocean.go readable.

func namespace(name string, labels map[string]string, note string) Object {
	ns := &corev1.Namespace{TypeMeta: tm("v1", "Namespace"), ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if note != "" {
		ns.Annotations = map[string]string{"blueocean.purser.dev/note": note}
	}
	return Object{StageBase, ns}
}

func configMap(ns, name string, labels, data map[string]string) Object {
	return Object{StageApps, &corev1.ConfigMap{TypeMeta: tm("v1", "ConfigMap"),
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, Data: data}}
}

func secret(ns, name string, labels map[string]string, keys ...string) Object {
	data := map[string][]byte{}
	for _, k := range keys {
		// Demo values: the snapshot never keeps them.
		data[k] = []byte("demo-" + k)
	}
	return Object{StageApps, &corev1.Secret{TypeMeta: tm("v1", "Secret"),
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, Type: corev1.SecretTypeOpaque, Data: data}}
}

func serviceAccount(ns, name string, labels, annotations map[string]string) Object {
	return Object{StageApps, &corev1.ServiceAccount{TypeMeta: tm("v1", "ServiceAccount"),
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, Annotations: annotations}}}
}

const storageClass = "do-block-storage"

// claim returns a PVC and the PV bound to it ahead of time: the local
// control plane has no storage provisioner, and a claim bound through the
// PV's claimRef is what a provisioner would have produced.
func claim(ns, name, size string, labels map[string]string) []Object {
	pvName := fmt.Sprintf("pvc-%08x-%s", fnv32(ns+"/"+name), name)
	return []Object{
		{StageBase, &corev1.PersistentVolume{TypeMeta: tm("v1", "PersistentVolume"),
			ObjectMeta: metav1.ObjectMeta{Name: pvName},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: q(size)},
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
				StorageClassName:              storageClass,
				ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: ns, Name: name},
				PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
					Driver: "dobs.csi.digitalocean.com", VolumeHandle: fmt.Sprintf("%08x-0000-4000-8000-%012x", fnv32(pvName), fnv32(name)),
					FSType: "ext4"}},
			}}},
		{StageBase, &corev1.PersistentVolumeClaim{TypeMeta: tm("v1", "PersistentVolumeClaim"),
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				StorageClassName: ptr.To(storageClass),
				VolumeName:       pvName,
				Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: q(size)}},
			}}},
	}
}

func doStorageClass() Object {
	return Object{StageBase, &storagev1.StorageClass{TypeMeta: tm("storage.k8s.io/v1", "StorageClass"),
		ObjectMeta: metav1.ObjectMeta{Name: storageClass,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner:          "dobs.csi.digitalocean.com",
		ReclaimPolicy:        ptr.To(corev1.PersistentVolumeReclaimDelete),
		AllowVolumeExpansion: ptr.To(true),
		VolumeBindingMode:    ptr.To(storagev1.VolumeBindingImmediate),
	}}
}

func ingress(ns, name, host, path, svc string, port int32, labels map[string]string) Object {
	pt := networkingv1.PathTypePrefix
	return Object{StageApps, &networkingv1.Ingress{TypeMeta: tm("networking.k8s.io/v1", "Ingress"),
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("nginx"),
			Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: path, PathType: &pt, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: port}}}}}}}}},
		}}}
}

func roleBinding(ns, name string, labels map[string]string, roleKind, roleName string, subjects ...rbacv1.Subject) Object {
	return Object{StageApps, &rbacv1.RoleBinding{TypeMeta: tm("rbac.authorization.k8s.io/v1", "RoleBinding"),
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: roleKind, Name: roleName},
		Subjects:   subjects}}
}
