package checks

import "github.com/purserhq/purser/internal/audit"

// Registry returns every check, in the order reports list them. IDs are
// stable: a check may be retired but its ID is never reused.
func Registry() []audit.Check {
	return []audit.Check{
		// Availability: what the BlueOcean audit found by hand.
		serviceNoEndpoints(),
		podCrashLoop(),
		podPending(),
		daemonSetCoverage(),
		workloadScaledToZero(),
		workloadUnavailable(),
		jobFailed(),
		cronJobSuspended(),
		// Hygiene.
		namespaceEmpty(),
	}
}
