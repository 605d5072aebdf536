package checks

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
)

func containerNoProbes() audit.Check {
	return ruleCheck{
		id:        "container-no-probes",
		reads:     readsOf(templateKinds),
		manifests: audit.RunsOnManifests(),
		category:  audit.Resources,
		severity:  audit.Warning,
		description: "A long-running workload whose serving containers (those that declare a port) lack a readiness or a " +
			"liveness probe. Without a readiness probe a pod receives traffic before it can answer and keeps receiving it " +
			"when it stops answering; without a liveness probe a hung process is never restarted. Jobs and CronJobs are " +
			"skipped (they run to completion), and so are containers without a TCP port, for which no generic probe exists. The suggested liveness probe " +
			"comes with a startup probe, so that a slow start is not taken for a hang.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			var out []audit.Finding
			for _, o := range userTemplateOwners(in.Index) {
				if o.Ref.Kind == "Job" || o.Ref.Kind == "CronJob" || o.Spec.RestartPolicy == corev1.RestartPolicyNever ||
					o.Spec.RestartPolicy == corev1.RestartPolicyOnFailure {
					continue
				}
				var names, evidence []string
				var patches []string
				for _, ct := range o.Spec.Containers {
					// A TCP probe of a UDP port always fails: the pod would
					// never be ready, and the liveness probe would restart
					// it forever.
					tcp := firstTCPPort(ct.Ports)
					if tcp == nil {
						continue
					}
					var miss []string
					if ct.ReadinessProbe == nil {
						miss = append(miss, "readiness")
					}
					if ct.LivenessProbe == nil {
						miss = append(miss, "liveness")
					}
					if len(miss) == 0 {
						continue
					}
					names = append(names, ct.Name)
					evidence = append(evidence, fmt.Sprintf("container %s (port %d): no %s probe", ct.Name, tcp.ContainerPort,
						strings.Join(miss, " and no ")))
					port := fmt.Sprint(tcp.ContainerPort)
					var fields []string
					if ct.ReadinessProbe == nil {
						fields = append(fields, fmt.Sprintf(`"readinessProbe":{"tcpSocket":{"port":%s},"periodSeconds":10}`, port))
					}
					if ct.LivenessProbe == nil {
						fields = append(fields, fmt.Sprintf(`"livenessProbe":{"tcpSocket":{"port":%s},"periodSeconds":20}`, port))
						// A liveness probe on an application slower to start
						// than its delay restarts it forever; a startup probe
						// holds liveness off for up to five minutes instead.
						if ct.StartupProbe == nil {
							fields = append(fields, fmt.Sprintf(`"startupProbe":{"tcpSocket":{"port":%s},"periodSeconds":10,"failureThreshold":30}`, port))
						}
					}
					patches = append(patches, `{"name":`+jsonText(ct.Name)+","+strings.Join(fields, ",")+"}")
				}
				if len(names) == 0 {
					continue
				}
				f := c.finding(o.Ref, fmt.Sprintf("%s has %s without readiness or liveness probes: %s", o.Ref.String(),
					plural(len(names), "container"), namesList(names)))
				f.Cause = "Kubernetes cannot tell whether these containers answer: traffic reaches pods that are starting or " +
					"stuck, and a hung process is never restarted."
				f.Evidence = evidence
				open, close := o.podSpecPrefix()
				f.Remediation = o.templateFix(c.id, "Add probes. A TCP probe on the serving port is the least an application needs; an HTTP probe on a "+
					"health endpoint (httpGet) is better when the application has one.",
					open+`{"containers":[`+strings.Join(patches, ",")+`]}`+close)
				out = append(out, f)
			}
			return out
		},
	}
}

// firstTCPPort is the container's first TCP port (the default protocol),
// or nil.
func firstTCPPort(ports []corev1.ContainerPort) *corev1.ContainerPort {
	for i := range ports {
		if ports[i].Protocol == "" || ports[i].Protocol == corev1.ProtocolTCP {
			return &ports[i]
		}
	}
	return nil
}
