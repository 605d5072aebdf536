package lib.workloads

is_workload(obj) if obj.kind in {"Deployment", "StatefulSet", "DaemonSet"}
