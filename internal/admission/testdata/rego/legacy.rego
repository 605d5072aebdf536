package purser.services

violation[{"msg": msg}] {
	input.kind == "Service"
	input.spec.type == "NodePort"
	msg := sprintf("Service %v is a NodePort", [input.metadata.name])
}
