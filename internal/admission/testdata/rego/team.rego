package purser.team

import data.lib.workloads

deny contains msg if {
	workloads.is_workload(input)
	not input.metadata.labels.team
	msg := sprintf("%s %s has no team label", [input.kind, input.metadata.name])
}
