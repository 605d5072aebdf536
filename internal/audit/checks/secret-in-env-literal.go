package checks

import (
	"fmt"
	"strings"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
)

func secretInEnvLiteral() audit.Check {
	return ruleCheck{
		id:        "secret-in-env-literal",
		reads:     readsOf(templateKinds),
		manifests: audit.RunsOnManifests(),
		category:  audit.Security,
		severity:  audit.Warning,
		description: "A container environment variable whose name says it holds a secret (PASSWORD, SECRET, TOKEN, " +
			"API_KEY, PRIVATE_KEY, ACCESS_KEY, CREDENTIAL...) with a literal value in the pod template. The value is then " +
			"readable by anyone who can read the workload, kept in every old ReplicaSet and usually committed to git. The " +
			"value is never printed, only the variable's name. Names that point to a secret rather than hold one " +
			"(..._FILE, ..._PATH, ..._URL, ..._NAME) are skipped.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			var out []audit.Finding
			for _, o := range templateOwners(in.Index) {
				var vars, evidence, containers []string
				byContainer := map[string][]string{}
				for _, ct := range allContainers(o.Spec) {
					for _, e := range ct.Env {
						if e.ValueFrom != nil || e.Value == "" || !secretLikeName(e.Name) {
							continue
						}
						vars = append(vars, e.Name)
						if byContainer[ct.Name] == nil {
							containers = append(containers, ct.Name)
						}
						byContainer[ct.Name] = append(byContainer[ct.Name], e.Name)
						evidence = append(evidence, fmt.Sprintf("container %s: env %s has a literal value (%d characters, not shown)",
							ct.Name, e.Name, len(e.Value)))
					}
				}
				if len(vars) == 0 {
					continue
				}
				f := c.finding(o.Ref, fmt.Sprintf("%s sets %s in plain text in its pod template", o.Ref.String(), namesList(vars)))
				f.Cause = "The values are part of the workload's spec: anyone allowed to get or list it (the edit and view " +
					"roles included) reads them, and they persist in old ReplicaSets and manifests."
				f.Evidence = evidence
				text := "Move the values into a Secret and reference it from the pod template, then rotate the credentials: " +
					"the old values must be considered leaked."
				if o.Ref.Kind == "Pod" || o.Ref.Kind == "Job" {
					f.Remediation = o.inPlace(audit.Remediation{Text: text})
					out = append(out, f)
					continue
				}
				// The Secret is filled from the workload's own env as the
				// cluster holds it (kubectl set env --list prints its
				// literal variables as an env file): the values never
				// appear in a report, and no placeholder ever reaches the
				// pods. Each container gets a Secret of its own, so that two
				// containers' variables of one name cannot collide.
				var cmds []string
				for _, ct := range containers {
					secretName := o.Ref.Name + "-" + ct + "-env"
					cmds = append(cmds, fmt.Sprintf("kubectl set env %s%s -c %s --list | kubectl create secret generic %s%s --from-env-file=/dev/stdin && "+
						"kubectl set env %s%s -c %s %s %s",
						kubectlName(o.Ref), nsFlag(o.Ref), shell.Quote(ct), shell.Quote(secretName), nsFlag(o.Ref),
						kubectlName(o.Ref), nsFlag(o.Ref), shell.Quote(ct), shell.Quote("--from=secret/"+secretName),
						shell.Quote("--keys="+strings.Join(byContainer[ct], ","))))
				}
				f.Remediation = audit.Remediation{
					Text: text + " The command copies the container's literal variables, as the cluster holds them, into a Secret " +
						"(the values are never printed), then points the listed variables at it; the other variables copied " +
						"stay unused in the Secret.",
					Command: strings.Join(cmds, "\n"),
				}
				out = append(out, f)
			}
			return out
		},
	}
}

// secretLikeName tells whether an environment variable's name says it
// holds a credential.
func secretLikeName(name string) bool {
	n := strings.ToUpper(name)
	for _, suffix := range [...]string{"_FILE", "_PATH", "_DIR", "_URL", "_URI", "_ENDPOINT", "_NAME", "_REF", "_ENABLED",
		"_TTL", "_EXPIRY", "_EXPIRATION", "_LENGTH", "_TYPE", "_HEADER", "_ID", "_KEY_ID"} {
		if strings.HasSuffix(n, suffix) {
			return false
		}
	}
	for _, word := range [...]string{"PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "API_KEY", "APIKEY",
		"PRIVATE_KEY", "ACCESS_KEY", "CREDENTIAL", "AUTH_KEY", "CLIENT_KEY", "SIGNING_KEY", "ENCRYPTION_KEY", "DSN"} {
		if strings.Contains(n, word) {
			return true
		}
	}
	return n == "PASS" || strings.HasSuffix(n, "_PASS") || strings.HasSuffix(n, "_PWD")
}
