package snapshot

import corev1 "k8s.io/api/core/v1"

// InstanceType returns a node's size (a DigitalOcean size slug, an EC2
// instance type): the stable label, else the beta one that clusters older
// than 1.17, and some that upgraded from them, still carry alone. Cost
// and packing read it here so that a node is priced and modelled as the
// same size. "" when the node has neither.
func InstanceType(n *corev1.Node) string {
	if t := n.Labels[corev1.LabelInstanceTypeStable]; t != "" {
		return t
	}
	return n.Labels[corev1.LabelInstanceType]
}
