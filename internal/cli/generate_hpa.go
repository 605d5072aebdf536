package cli

import (
	"context"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/govern"
	"github.com/purserhq/purser/internal/manifest"
)

const generateHPA = "hpa"

func hpaGenerator() generator {
	return generator{
		help: `an autoscaling/v2 HorizontalPodAutoscaler for every Deployment
                   of more than one replica with CPU requests and no autoscaler, with
                   the strategy's behaviour (up at most doubling per minute,
                   down after 5 minutes), on the metrics the cluster's
                   discovery serves: CPU (metrics.k8s.io), govern.hpa.pods
                   (custom.metrics.k8s.io); a metric left out is a warning`,
		run: func(_ context.Context, o *GenerateOptions, env *action.Env, in govern.Input, warn func(string, ...any)) ([]govern.Object, []manifest.File, error) {
			// The snapshot's discovery: live collection asks the API server
			// afresh (not kubectl's cache, which keeps a cluster's groups for
			// hours), and a snapshot saved from a cluster keeps what it said.
			res, err := govern.HPAs(in, env.Snapshot.Meta.Serves)
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
