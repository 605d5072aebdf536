package checks

import (
	"fmt"
	"strings"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
)

func imageLatestTag() audit.Check {
	return ruleCheck{
		id:       "image-latest-tag",
		reads:    readsOf(templateKinds),
		category: audit.Resources,
		severity: audit.Warning,
		description: "A workload whose container images use the `latest` tag or no tag at all (which means `latest`), " +
			"without a digest. Two pods of the same workload can then run different code, a rollback does not roll back, " +
			"and the image pull policy defaults to Always, so every start depends on the registry.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			var out []audit.Finding
			for _, o := range userTemplateOwners(in.Index) {
				var names, evidence, cmds []string
				for _, ct := range allContainers(o.Spec) {
					repo, tag, digest := splitImage(ct.Image)
					if digest || (tag != "" && tag != "latest") {
						continue
					}
					names = append(names, ct.Name)
					if tag == "" {
						evidence = append(evidence, fmt.Sprintf("container %s: image %s has no tag (pulled as :latest)", ct.Name, ct.Image))
					} else {
						evidence = append(evidence, fmt.Sprintf("container %s: image %s", ct.Name, ct.Image))
					}
					cmds = append(cmds, fmt.Sprintf("kubectl set image %s%s %s", kubectlName(o.Ref), nsFlag(o.Ref), shell.Quote(ct.Name+"="+repo+":<version>")))
				}
				if len(names) == 0 {
					continue
				}
				f := c.finding(o.Ref, fmt.Sprintf("%s runs %s with a floating :latest image: %s", o.Ref.String(),
					plural(len(names), "container"), namesList(names)))
				f.Cause = "A mutable tag names whatever was pushed last: what runs depends on when each pod was started, and the " +
					"workload's revision history cannot bring back the previous code."
				f.Evidence = evidence
				f.Remediation = audit.Remediation{
					Text: "Pin each image to a released version tag, or better to a digest (repo@sha256:...), the one running " +
						"pods report in status.containerStatuses[].imageID.",
					Command: strings.Join(cmds, "\n"),
				}
				f.Remediation = o.inPlace(f.Remediation)
				out = append(out, f)
			}
			return out
		},
	}
}

// splitImage splits an image reference into repository and tag, and tells
// whether it carries a digest. The tag is after the last colon of the last
// path element, so a registry port (registry:5000/app) is not a tag.
func splitImage(image string) (repo, tag string, digest bool) {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		return image[:i], "", true
	}
	slash := strings.LastIndexByte(image, '/')
	if i := strings.LastIndexByte(image, ':'); i > slash {
		return image[:i], image[i+1:], false
	}
	return image, "", false
}
