package checks

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// bootstrapBinding reports bindings the API server creates and reconciles
// itself (labelled kubernetes.io/bootstrapping=rbac-defaults, or named
// system:...): they name control-plane identities that need not exist as
// objects, and users do not edit them.
func bootstrapBinding(m metav1.ObjectMeta) bool {
	return m.Labels["kubernetes.io/bootstrapping"] == "rbac-defaults" || strings.HasPrefix(m.Name, "system:")
}

// bindingSubjectNS returns the namespace of a ServiceAccount subject.
func bindingSubjectNS(sub rbacv1.Subject, bindingNS string) string {
	if sub.Namespace != "" {
		return sub.Namespace
	}
	return bindingNS
}
