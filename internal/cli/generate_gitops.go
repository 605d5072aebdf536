package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/govern"
	"github.com/purserhq/purser/internal/manifest"
)

const generateGitOps = "gitops"

func gitopsGenerator() generator {
	return generator{
		help: `the Phase 3 repository, written with --out DIR: clusters/<cluster>/
                   (Argo CD Applications), applications/<product>/base and
                   overlays/<environment> (the cluster's objects, cleaned),
                   platform/ (the shared environments) and policies/
                   (namespaces, networkpolicies, quotas, rbac); Secrets are
                   listed in its README.md, never written`,
		run: func(_ context.Context, o *GenerateOptions, env *action.Env, in govern.Input, warn func(string, ...any)) ([]govern.Object, []manifest.File, error) {
			cfg := env.Config
			res, err := govern.GitOps(in)
			if err != nil {
				return nil, nil, cfg.Check("govern", err)
			}
			// policies/ holds the quotas: below current use they refuse
			// the next pod, as purser generate quotas says.
			for _, ov := range res.Overuse {
				if !o.Force {
					err := cfg.QuotaOveruse(ov, "raise it, or pass --force to generate it anyway")
					if more := len(res.Overuse) - 1; more > 0 {
						return nil, nil, fmt.Errorf("%w (and %d more over their quota)", err, more)
					}
					return nil, nil, err
				}
				warn("%v", cfg.QuotaOveruse(ov, ""))
			}
			for _, n := range res.Notes {
				warn("%s", n)
			}
			overlays := 0
			for _, a := range res.Apps {
				overlays += len(a.Overlays)
			}
			fmt.Fprintf(o.streams.ErrOut, "%d applications (%d overlays), %d platform namespaces, %d Argo CD Applications in clusters/%s; %d Secrets listed in README.md, not written\n",
				len(res.Apps), overlays, len(res.Platform), len(res.Applications), res.Cluster, len(res.Secrets))
			if len(res.Secrets) > 0 {
				fmt.Fprintf(o.streams.ErrOut, "Secrets to provide: %s\n", strings.Join(res.Secrets, ", "))
			}
			return nil, res.Files, nil
		},
	}
}
