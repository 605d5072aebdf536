package checks

import "github.com/purserhq/purser/internal/audit"

// Registry returns every check, in the order reports list them. IDs are
// stable: a check may be retired but its ID is never reused.
func Registry() []audit.Check {
	return append(coreChecks(), hygieneChecks()...)
}

// coreChecks are the availability checks (what the BlueOcean audit found
// by hand) and namespace-empty.
func coreChecks() []audit.Check {
	return []audit.Check{
		serviceNoEndpoints(),
		serviceSelectorMatchesNothing(),
		podCrashLoop(),
		podPending(),
		daemonSetCoverage(),
		workloadScaledToZero(),
		workloadUnavailable(),
		jobFailed(),
		cronJobSuspended(),
		namespaceEmpty(),
	}
}
