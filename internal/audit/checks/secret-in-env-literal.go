package checks

import (
	"fmt"
	"strings"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
)

func secretInEnvLiteral() audit.Check {
	return ruleCheck{
		id:       "secret-in-env-literal",
		reads:    readsOf(templateKinds),
		category: audit.Security,
		severity: audit.Warning,
		description: "A container environment variable whose name says it holds a secret (PASSWORD, SECRET, TOKEN, " +
			"API_KEY, PRIVATE_KEY, ACCESS_KEY, CREDENTIAL...) with a literal value in the pod template. The value is then " +
			"readable by anyone who can read the workload, kept in every old ReplicaSet and usually committed to git. The " +
			"value is never printed, only the variable's name. Names that point to a secret rather than hold one " +
			"(..._FILE, ..._PATH, ..._URL, ..._NAME) are skipped.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			var out []audit.Finding
			for _, o := range templateOwners(in.Index) {
				var vars, evidence []string
				for _, ct := range allContainers(o.Spec) {
					for _, e := range ct.Env {
						if e.ValueFrom != nil || e.Value == "" || !secretLikeName(e.Name) {
							continue
						}
						vars = append(vars, e.Name)
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
				secretName := o.Ref.Name + "-env"
				var from []string
				for _, v := range vars {
					from = append(from, shell.Quote("--from-literal="+v+"=<value>"))
				}
				f.Remediation = audit.Remediation{
					Text: "Move the values into a Secret and reference it from the pod template, then rotate the credentials: " +
						"the old values must be considered leaked.",
					Command: fmt.Sprintf("kubectl create secret generic %s%s %s\nkubectl set env %s%s %s %s",
						shell.Quote(secretName), nsFlag(o.Ref), strings.Join(from, " "), kubectlName(o.Ref), nsFlag(o.Ref),
						shell.Quote("--from=secret/"+secretName), shell.Quote("--keys="+strings.Join(vars, ","))),
				}
				if fixed := o.inPlace(f.Remediation); fixed.Command == "" {
					// The Secret can still be created; only the template needs re-creating.
					fixed.Command = fmt.Sprintf("kubectl create secret generic %s%s %s", shell.Quote(secretName), nsFlag(o.Ref), strings.Join(from, " "))
					f.Remediation = fixed
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
