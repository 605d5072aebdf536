package checks

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
)

func secretUnused() audit.Check {
	return ruleCheck{
		id:        "secret-unused",
		reads:     readsOf(kSecrets, kServiceAccounts, templateKinds, refKinds),
		manifests: audit.NeedsCluster("needs a cluster: the workloads that use a Secret may be outside the manifests"),
		category:  audit.Hygiene,
		severity:  audit.Info,
		description: "A Secret that no pod template (volume, projected volume, env, envFrom, imagePullSecrets), no " +
			"ServiceAccount (secrets, imagePullSecrets), no Ingress TLS section, controller argument or Ingress annotation " +
			"refers to. An unused Secret is a credential nobody rotates. Service-account tokens, Helm release records " +
			"(type helm.sh/release.v1), bootstrap tokens, certificates managed by cert-manager, objects owned by another " +
			"object (a SealedSecret, a Certificate) and the platform namespaces are skipped. Secret values are never read.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			ix := in.Index
			named := namedReferences(ix)
			used := map[string]string{} // ns/name -> where
			for _, sa := range ix.S.ServiceAccounts {
				for _, s := range sa.Secrets {
					used[sa.Namespace+"/"+s.Name] = "ServiceAccount " + sa.Name
				}
				for _, s := range sa.ImagePullSecrets {
					used[sa.Namespace+"/"+s.Name] = "ServiceAccount " + sa.Name + " (imagePullSecrets)"
				}
			}
			for _, ing := range ix.S.Ingresses {
				for _, t := range ing.Spec.TLS {
					if t.SecretName != "" {
						used[ing.Namespace+"/"+t.SecretName] = "Ingress " + ing.Name + " (tls)"
					}
				}
			}
			var out []audit.Finding
			for i := range ix.S.Secrets {
				s := &ix.S.Secrets[i]
				if platformNamespace(s.Namespace) || controllerManagedSecret(s) {
					continue
				}
				r := ref("Secret", s.Namespace, s.Name)
				if len(ix.UsersOf(r)) > 0 || len(named[r]) > 0 || used[s.Namespace+"/"+s.Name] != "" {
					continue
				}
				typ := string(s.Type)
				if typ == "" {
					typ = string(corev1.SecretTypeOpaque)
				}
				f := c.finding(r, fmt.Sprintf("Secret %s/%s (%s) is not used by any workload, ServiceAccount or Ingress", s.Namespace, s.Name, typ))
				f.Cause = "Nothing in namespace " + s.Namespace + " mounts it, reads it through env or envFrom, pulls images with it " +
					"or serves TLS with it: it is probably left over from a removed workload or a rotated credential."
				f.Evidence = append(f.Evidence, "type "+typ)
				if !s.CreationTimestamp.IsZero() {
					f.Evidence = append(f.Evidence, "created "+s.CreationTimestamp.UTC().Format("2006-01-02"))
				}
				f.Remediation = audit.Remediation{
					Text: "Check that no application reads it through the API and that the credential it holds is revoked at its " +
						"source (database user, API key), then delete it. Deleting the object does not revoke the credential.",
					Command: fmt.Sprintf("kubectl delete secret %s%s", shell.Quote(s.Name), nsArg(s.Namespace)),
				}
				out = append(out, f)
			}
			return out
		},
	}
}

// controllerManagedSecret reports Secrets that the control plane or a
// controller creates and reads itself.
func controllerManagedSecret(s *corev1.Secret) bool {
	if len(s.OwnerReferences) > 0 {
		return true
	}
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken, corev1.SecretTypeBootstrapToken, "helm.sh/release.v1":
		return true
	}
	if strings.EqualFold(s.Labels["owner"], "helm") {
		return true
	}
	for k := range s.Annotations {
		// cert-manager stamps the certificates it issues and keeps its ACME
		// account keys; it renews them through the API.
		if strings.HasPrefix(k, "cert-manager.io/") || strings.HasPrefix(k, "acme.cert-manager.io/") {
			return true
		}
	}
	for k := range s.Labels {
		if strings.HasPrefix(k, "cert-manager.io/") || strings.HasPrefix(k, "controller.cert-manager.io/") {
			return true
		}
	}
	return false
}
