package snapshot

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BootstrapClusterRoles are the ClusterRoles every Kubernetes API server
// creates at start and reconciles, labelled
// kubernetes.io/bootstrapping=rbac-defaults.
// Source: kubernetes/kubernetes v1.34, plugin/pkg/auth/authorizer/rbac/
// bootstrappolicy/policy.go (ClusterRoles) and controller_policy.go
// (ControllerRoles), with the controllers of feature-gated APIs of 1.34;
// checked against the local control plane by
// TestBootstrapClusterRolesLive.
func BootstrapClusterRoles() []string {
	return []string{
		"admin",
		"cluster-admin",
		"edit",
		"system:aggregate-to-admin",
		"system:aggregate-to-edit",
		"system:aggregate-to-view",
		"system:auth-delegator",
		"system:basic-user",
		"system:certificates.k8s.io:certificatesigningrequests:nodeclient",
		"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
		"system:certificates.k8s.io:kube-apiserver-client-approver",
		"system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
		"system:certificates.k8s.io:kubelet-serving-approver",
		"system:certificates.k8s.io:legacy-unknown-approver",
		"system:controller:attachdetach-controller",
		"system:controller:certificate-controller",
		"system:controller:clusterrole-aggregation-controller",
		"system:controller:cronjob-controller",
		"system:controller:daemon-set-controller",
		"system:controller:deployment-controller",
		"system:controller:disruption-controller",
		"system:controller:endpoint-controller",
		"system:controller:endpointslice-controller",
		"system:controller:endpointslicemirroring-controller",
		"system:controller:ephemeral-volume-controller",
		"system:controller:expand-controller",
		"system:controller:generic-garbage-collector",
		"system:controller:horizontal-pod-autoscaler",
		"system:controller:job-controller",
		"system:controller:legacy-service-account-token-cleaner",
		"system:controller:namespace-controller",
		"system:controller:node-controller",
		"system:controller:persistent-volume-binder",
		"system:controller:pod-garbage-collector",
		"system:controller:pv-protection-controller",
		"system:controller:pvc-protection-controller",
		"system:controller:replicaset-controller",
		"system:controller:replication-controller",
		"system:controller:resource-claim-controller",
		"system:controller:resourcequota-controller",
		"system:controller:root-ca-cert-publisher",
		"system:controller:route-controller",
		"system:controller:selinux-warning-controller",
		"system:controller:service-account-controller",
		"system:controller:service-cidrs-controller",
		"system:controller:service-controller",
		"system:controller:statefulset-controller",
		"system:controller:ttl-after-finished-controller",
		"system:controller:ttl-controller",
		"system:controller:validatingadmissionpolicy-status-controller",
		"system:controller:volumeattributesclass-protection-controller",
		"system:discovery",
		"system:heapster",
		"system:kube-aggregator",
		"system:kube-controller-manager",
		"system:kube-dns",
		"system:kube-scheduler",
		"system:kubelet-api-admin",
		"system:monitoring",
		"system:node",
		"system:node-bootstrapper",
		"system:node-problem-detector",
		"system:node-proxier",
		"system:persistent-volume-provisioner",
		"system:public-info-viewer",
		"system:service-account-issuer-discovery",
		"system:volume-scheduler",
		"view",
	}
}

// BuiltinNamespaces are the namespaces every cluster has.
func BuiltinNamespaces() []string {
	return []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease}
}

// bootstrapLabel marks what the API server creates itself, as it does.
const bootstrapLabel = "kubernetes.io/bootstrapping"

// BuiltinAnnotation marks the objects the manifest reader adds because
// every cluster has them (see addBuiltins): they stand in for the
// cluster's own, which win over them when manifests are laid over a
// cluster, and no finding is about them.
const BuiltinAnnotation = "purser.dev/builtin"

// IsBuiltin reports whether o was added by the manifest reader as an
// object every cluster has, rather than read from the manifests.
func IsBuiltin(o metav1.Object) bool { return o.GetAnnotations()[BuiltinAnnotation] == "true" }

// addBuiltins adds to a snapshot of manifests the objects every cluster
// already has and the set does not define: the bootstrap ClusterRoles,
// kube-system's kube-dns Service, and in every namespace the set uses
// (and the built-in ones) the default ServiceAccount and the
// kube-root-ca.crt ConfigMap that Kubernetes' controllers create.
// Namespaces themselves are not added: a namespace the set does not
// define is judged by the cluster it lands in, not by the manifests.
func addBuiltins(s *Snapshot) {
	builtin := map[string]string{BuiltinAnnotation: "true"}
	roles := map[string]bool{}
	for i := range s.ClusterRoles {
		roles[s.ClusterRoles[i].Name] = true
	}
	for _, name := range BootstrapClusterRoles() {
		if !roles[name] {
			s.ClusterRoles = append(s.ClusterRoles, rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name,
				Labels: map[string]string{bootstrapLabel: "rbac-defaults"}, Annotations: builtin}})
		}
	}
	namespaces := map[string]bool{}
	for _, ns := range BuiltinNamespaces() {
		namespaces[ns] = true
	}
	for i := range s.Namespaces {
		namespaces[s.Namespaces[i].Name] = true
	}
	for _, ns := range usedNamespaces(s) {
		namespaces[ns] = true
	}
	sas, cms := map[string]bool{}, map[string]bool{}
	for i := range s.ServiceAccounts {
		sas[s.ServiceAccounts[i].Namespace+"/"+s.ServiceAccounts[i].Name] = true
	}
	for i := range s.ConfigMaps {
		cms[s.ConfigMaps[i].Namespace+"/"+s.ConfigMaps[i].Name] = true
	}
	names := make([]string, 0, len(namespaces))
	for ns := range namespaces {
		names = append(names, ns)
	}
	sort.Strings(names)
	for _, ns := range names {
		if !sas[ns+"/default"] {
			s.ServiceAccounts = append(s.ServiceAccounts, corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default", Annotations: builtin}})
		}
		if !cms[ns+"/kube-root-ca.crt"] {
			s.ConfigMaps = append(s.ConfigMaps, corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kube-root-ca.crt", Annotations: builtin}})
		}
	}
	hasDNS := false
	for i := range s.Services {
		if s.Services[i].Namespace == metav1.NamespaceSystem && s.Services[i].Name == "kube-dns" {
			hasDNS = true
		}
	}
	if !hasDNS {
		s.Services = append(s.Services, corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: "kube-dns", Labels: map[string]string{"k8s-app": "kube-dns"},
				Annotations: builtin},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"k8s-app": "kube-dns"}, Ports: []corev1.ServicePort{
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP},
			}},
		})
	}
	for i := range s.Meta.Kinds {
		k := &s.Meta.Kinds[i]
		switch k.GroupResource() {
		case "clusterroles.rbac.authorization.k8s.io":
			k.Count = len(s.ClusterRoles)
		case "serviceaccounts":
			k.Count = len(s.ServiceAccounts)
		case "configmaps":
			k.Count = len(s.ConfigMaps)
		case "services":
			k.Count = len(s.Services)
		}
	}
}

// usedNamespaces returns the namespaces the set's objects are in.
func usedNamespaces(s *Snapshot) []string {
	seen := map[string]bool{}
	for _, k := range kinds() {
		if !k.Namespaced {
			continue
		}
		k.each(s, func(o metav1.Object) { seen[o.GetNamespace()] = true })
	}
	for _, o := range s.Others {
		if o.Namespace != "" {
			seen[o.Namespace] = true
		}
	}
	out := make([]string, 0, len(seen))
	for ns := range seen {
		out = append(out, ns)
	}
	return out
}
