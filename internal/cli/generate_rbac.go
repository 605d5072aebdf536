package cli

import (
	"context"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/govern"
	"github.com/purserhq/purser/internal/manifest"
)

const generateRBAC = "rbac"

func rbacGenerator() generator {
	return generator{
		help: `a RoleBinding per namespace of each environment for every group
                   or user of govern.rbac.access (default: developers view production
                   and edit development and staging, ops admin), always to a
                   ClusterRole that exists: built in, shipped from
                   govern.rbac.clusterRoles, or the cluster's own`,
		run: func(_ context.Context, _ *GenerateOptions, env *action.Env, in govern.Input, warn func(string, ...any)) ([]govern.Object, []manifest.File, error) {
			res, err := govern.RBAC(in)
			if err != nil {
				return nil, nil, env.Config.Check("govern", err)
			}
			for _, n := range res.Notes {
				warn("%s", n)
			}
			return res.Objects(), nil, nil
		},
	}
}
