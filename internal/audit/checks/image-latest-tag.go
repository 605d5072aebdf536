package checks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

func imageLatestTag() audit.Check {
	return ruleCheck{
		id:        "image-latest-tag",
		reads:     readsOf(templateKinds),
		manifests: audit.RunsOnManifests(),
		category:  audit.Resources,
		severity:  audit.Warning,
		description: "A workload whose container images use the `latest` tag or no tag at all (which means `latest`), " +
			"without a digest. Two pods of the same workload can then run different code, a rollback does not roll back, " +
			"and the image pull policy defaults to Always, so every start depends on the registry.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			var out []audit.Finding
			for _, o := range userTemplateOwners(in.Index) {
				var names, evidence, cmds, unpinned []string
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
					// Pinning to the digest the pods run now changes no code;
					// a version tag would be a guess, and a placeholder in a
					// command would set an image that cannot be pulled.
					switch digests := runningDigests(in.Index, o.Ref, ct.Name); len(digests) {
					case 0:
						unpinned = append(unpinned, ct.Name)
					case 1:
						evidence = append(evidence, fmt.Sprintf("container %s runs %s", ct.Name, digests[0]))
						cmds = append(cmds, fmt.Sprintf("kubectl set image %s%s %s", kubectlName(o.Ref), nsFlag(o.Ref),
							shell.Quote(ct.Name+"="+repo+"@"+digests[0])))
					default:
						evidence = append(evidence, fmt.Sprintf("container %s runs %d different images: %s", ct.Name, len(digests), strings.Join(digests, ", ")))
						unpinned = append(unpinned, ct.Name)
					}
				}
				if len(names) == 0 {
					continue
				}
				f := c.finding(o.Ref, fmt.Sprintf("%s runs %s with a floating :latest image: %s", o.Ref.String(),
					plural(len(names), "container"), namesList(names)))
				f.Cause = "A mutable tag names whatever was pushed last: what runs depends on when each pod was started, and the " +
					"workload's revision history cannot bring back the previous code."
				f.Evidence = evidence
				text := "Pin each image to a released version tag, or to a digest (repo@sha256:...). The command pins each " +
					"container to the digest its pods run now, so no code changes."
				if len(unpinned) > 0 {
					text += " For " + namesList(unpinned) + " the snapshot shows no single running digest (no running pod, or pods " +
						"running different images): choose the version and set it in the pod template."
				}
				f.Remediation = audit.Remediation{Text: text, Command: strings.Join(cmds, "\n")}
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

// runningDigests lists the distinct image digests that the pods of owner
// report for a container ("sha256:..."), sorted.
func runningDigests(ix *snapshot.Index, owner snapshot.Ref, container string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range ix.PodsInNamespace(owner.Namespace) {
		if ix.TopOwner("Pod", p) != owner {
			continue
		}
		for _, st := range p.Status.ContainerStatuses {
			if st.Name != container {
				continue
			}
			_, digest, ok := strings.Cut(st.ImageID, "@")
			if !ok || !strings.HasPrefix(digest, "sha256:") || seen[digest] {
				continue
			}
			seen[digest] = true
			out = append(out, digest)
		}
	}
	sort.Strings(out)
	return out
}
