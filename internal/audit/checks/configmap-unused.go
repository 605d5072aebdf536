package checks

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

func configMapUnused() audit.Check {
	return ruleCheck{
		id:        "configmap-unused",
		reads:     readsOf(kConfigMaps, templateKinds, refKinds),
		manifests: audit.NeedsCluster("needs a cluster: the workloads that mount a ConfigMap may be outside the manifests"),
		category:  audit.Hygiene,
		severity:  audit.Info,
		description: "A ConfigMap that no pod template (volume, projected volume, env, envFrom) and no controller " +
			"argument or Ingress annotation refers to. Unused ConfigMaps are clutter that hides which configuration is live, " +
			"and they make a namespace look in use when it is not. kube-root-ca.crt, objects owned by another object, " +
			"Helm release records, leader-election locks and objects in kube-system, kube-public and kube-node-lease are skipped: " +
			"controllers create and read those themselves.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			ix := in.Index
			named := namedReferences(ix)
			var out []audit.Finding
			for i := range ix.S.ConfigMaps {
				cm := &ix.S.ConfigMaps[i]
				if platformNamespace(cm.Namespace) || snapshot.IsDefaultObject("ConfigMap", cm) || controllerManagedConfigMap(cm) {
					continue
				}
				r := ref("ConfigMap", cm.Namespace, cm.Name)
				if len(ix.UsersOf(r)) > 0 || len(named[r]) > 0 {
					continue
				}
				f := c.finding(r, fmt.Sprintf("ConfigMap %s/%s is not used by any workload", cm.Namespace, cm.Name))
				f.Cause = "No pod template in namespace " + cm.Namespace + " mounts it, projects it or reads it through env or envFrom, " +
					"and no controller argument or Ingress annotation names it: it is probably left over from a removed or renamed workload."
				if keys := configMapKeys(cm); len(keys) > 0 {
					f.Evidence = append(f.Evidence, fmt.Sprintf("%d %s: %s", len(keys), plural(len(keys), "key"), strings.Join(keys, ", ")))
				} else {
					f.Evidence = append(f.Evidence, "no keys")
				}
				if !cm.CreationTimestamp.IsZero() {
					f.Evidence = append(f.Evidence, "created "+cm.CreationTimestamp.UTC().Format("2006-01-02"))
				}
				// The command names no file: Purser writes none for a
				// deletion, and a copy is best taken from the cluster at
				// the time, binary data included, which the snapshot drops.
				f.Remediation = audit.Remediation{
					Text: "Check that nothing outside the cluster's pod templates reads it (an application calling the API, a tool " +
						"selecting ConfigMaps by label), keep a copy, then delete it. The command prints the ConfigMap as YAML " +
						"before deleting it, and deletes it only if that worked: redirect its output to a file of your choosing " +
						"to keep the copy.",
					Command: fmt.Sprintf("kubectl get configmap %s%s -o yaml && kubectl delete configmap %s%s",
						shell.Quote(cm.Name), nsArg(cm.Namespace), shell.Quote(cm.Name), nsArg(cm.Namespace)),
				}
				out = append(out, f)
			}
			return out
		},
	}
}

// controllerManagedConfigMap reports ConfigMaps that a controller writes
// and reads itself: owned objects, Helm v2/v3 release records (the
// configmap storage driver labels them owner=helm or OWNER=TILLER),
// leader-election locks, and ConfigMaps discovered by label by sidecars
// (Grafana dashboards and datasources).
func controllerManagedConfigMap(cm *corev1.ConfigMap) bool {
	if len(cm.OwnerReferences) > 0 {
		return true
	}
	switch {
	case strings.EqualFold(cm.Labels["owner"], "helm"), strings.EqualFold(cm.Labels["OWNER"], "tiller"):
		return true
	case cm.Annotations["control-plane.alpha.kubernetes.io/leader"] != "":
		return true
	}
	for _, l := range [...]string{"grafana_dashboard", "grafana_datasource", "grafana_alert"} {
		if _, ok := cm.Labels[l]; ok {
			return true
		}
	}
	return false
}

func configMapKeys(cm *corev1.ConfigMap) []string {
	keys := make([]string, 0, len(cm.Data)+len(cm.BinaryData))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	for k := range cm.BinaryData {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
