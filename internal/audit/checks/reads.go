package checks

import (
	"sort"
	"strings"

	"github.com/purserhq/purser/internal/audit"
)

// The kinds checks read, named as snapshot.KindStatus.GroupResource names
// them, so that the runner can match them against the kinds the snapshot
// could not list.
const (
	kPods                = "pods"
	kEvents              = "events"
	kServices            = "services"
	kEndpointSlices      = "endpointslices.discovery.k8s.io"
	kConfigMaps          = "configmaps"
	kSecrets             = "secrets"
	kServiceAccounts     = "serviceaccounts"
	kPVCs                = "persistentvolumeclaims"
	kPVs                 = "persistentvolumes"
	kStorageClasses      = "storageclasses.storage.k8s.io"
	kNodes               = "nodes"
	kNamespaces          = "namespaces"
	kResourceQuotas      = "resourcequotas"
	kLimitRanges         = "limitranges"
	kDeployments         = "deployments.apps"
	kReplicaSets         = "replicasets.apps"
	kStatefulSets        = "statefulsets.apps"
	kDaemonSets          = "daemonsets.apps"
	kJobs                = "jobs.batch"
	kCronJobs            = "cronjobs.batch"
	kHPAs                = "horizontalpodautoscalers.autoscaling"
	kPDBs                = "poddisruptionbudgets.policy"
	kIngresses           = "ingresses.networking.k8s.io"
	kNetworkPolicies     = "networkpolicies.networking.k8s.io"
	kRoles               = "roles.rbac.authorization.k8s.io"
	kRoleBindings        = "rolebindings.rbac.authorization.k8s.io"
	kClusterRoles        = "clusterroles.rbac.authorization.k8s.io"
	kClusterRoleBindings = "clusterrolebindings.rbac.authorization.k8s.io"
)

// templateKinds are the kinds templateOwners and Index.UsersOf draw pod
// templates from: a check over pod templates misses the workloads of any
// of them the snapshot could not list. A comma-separated constant, so that
// readsOf takes it beside single kinds and nothing is mutable.
const templateKinds = kPods + "," + kReplicaSets + "," + kDeployments + "," + kStatefulSets + "," + kDaemonSets + "," + kJobs + "," + kCronJobs

// refKinds are what namedReferences reads besides pod templates.
const refKinds = kConfigMaps + "," + kSecrets + "," + kIngresses

// readsOf joins kinds, and comma-separated groups of kinds, into one
// sorted set.
func readsOf(kinds ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, group := range kinds {
		for _, k := range strings.Split(group, ",") {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// everyNamespacedKind is what namespace-empty reads: a namespace is empty
// only if every namespaced kind, custom resources included, was listed and
// holds nothing there.
func everyNamespacedKind() []string {
	return []string{kNamespaces, audit.EveryNamespacedKind}
}
