package checks

import "github.com/purserhq/purser/internal/audit"

// hygieneChecks are the checks for unused objects, resource settings,
// reliability, security and governance.
func hygieneChecks() []audit.Check {
	return []audit.Check{
		// Unused resources.
		configMapUnused(),
		secretUnused(),
		pvcUnused(),
		pvReleased(),
		serviceAccountUnused(),
		serviceUnusedLoadBalancer(),
		ingressMissingBackend(),
		// Resources and reliability.
		containerNoRequests(),
		containerNoLimits(),
		containerNoProbes(),
		imageLatestTag(),
		deploymentSingleReplicaNoPDB(),
		hpaTargetMissing(),
		workloadMissingReference(),
		hpaMetricsUnavailable(),
		quotaWithoutLimitRange(),
		quotaExceeded(),
		// Security and governance.
		namespaceNoNetworkPolicy(),
		networkPolicySelectorMatchesNothing(),
		networkPolicyEgressBlocksDNS(),
		roleBindingMissingSubject(),
		roleBindingMissingRole(),
		clusterRoleBindingClusterAdmin(),
		podRunsAsRoot(),
		secretInEnvLiteral(),
		namespaceMissingLabels(),
		// API lifecycle.
		apiDeprecated(),
	}
}
