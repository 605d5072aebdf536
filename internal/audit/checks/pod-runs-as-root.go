package checks

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
)

func podRunsAsRoot() audit.Check {
	return ruleCheck{
		id:        "pod-runs-as-root",
		reads:     readsOf(templateKinds),
		manifests: audit.RunsOnManifests(),
		category:  audit.Security,
		severity:  audit.Warning,
		description: "A workload whose containers may run as root: runAsUser is 0, or neither the pod nor the container " +
			"sets runAsNonRoot (nor a non-zero runAsUser), so the image's USER decides, and most images run as root. A " +
			"process escaping a root container is root on the node. Windows pods and the platform namespaces are skipped.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			var out []audit.Finding
			for _, o := range userTemplateOwners(in.Index) {
				if o.Spec.OS != nil && o.Spec.OS.Name == corev1.Windows {
					continue
				}
				psc := o.Spec.SecurityContext
				var names, evidence []string
				for _, ct := range allContainers(o.Spec) {
					var nonRoot *bool
					var user *int64
					if psc != nil {
						nonRoot, user = psc.RunAsNonRoot, psc.RunAsUser
					}
					if sc := ct.SecurityContext; sc != nil {
						if sc.RunAsNonRoot != nil {
							nonRoot = sc.RunAsNonRoot
						}
						if sc.RunAsUser != nil {
							user = sc.RunAsUser
						}
					}
					switch {
					case user != nil && *user == 0:
						names = append(names, ct.Name)
						evidence = append(evidence, "container "+ct.Name+": runAsUser 0")
					case user == nil && (nonRoot == nil || !*nonRoot):
						names = append(names, ct.Name)
						evidence = append(evidence, "container "+ct.Name+": no runAsNonRoot and no runAsUser (the image's USER applies)")
					}
				}
				if len(names) == 0 {
					continue
				}
				f := c.finding(o.Ref, fmt.Sprintf("%s may run %s as root: %s", o.Ref.String(), plural(len(names), "container"), namesList(names)))
				f.Cause = "Nothing in the pod's or containers' securityContext stops them from running as user 0."
				f.Evidence = evidence
				open, close := o.podSpecPrefix()
				f.Remediation = o.templateFix(c.id, "Run as a non-root user: set runAsNonRoot and a non-zero runAsUser in the pod's securityContext (and "+
					"remove runAsUser: 0 from the containers). An image built to run as root may then fail to start "+
					"(\"container has runAsNonRoot and image will run as root\") or to write its files: rebuild it with a "+
					"USER, or set fsGroup for its volumes.",
					open+`{"securityContext":{"runAsNonRoot":true,"runAsUser":10001}}`+close)
				out = append(out, f)
			}
			return out
		},
	}
}
