package cli

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/client-go/discovery"

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
			apis, err := o.discovery(env)
			if err != nil {
				return nil, nil, err
			}
			res, err := govern.HPAs(in, apis)
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

// discovery is what the live cluster's API server says it serves; a
// snapshot read from files or the demo has none.
func (o *GenerateOptions) discovery(env *action.Env) (govern.Discovery, error) {
	if !strings.HasPrefix(env.Snapshot.Meta.Source, "live:") || o.Env.Kube == nil {
		return govern.NoDiscovery, nil
	}
	// Not kubectl's discovery cache: it keeps a cluster's groups for hours,
	// and a metrics-server installed since must count.
	rc, err := o.Env.Kube.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("discovery of %s: %w", env.Snapshot.Meta.Source, err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("discovery of %s: %w", env.Snapshot.Meta.Source, err)
	}
	groups, err := dc.ServerGroups()
	if err != nil {
		return nil, fmt.Errorf("discovery of %s: listing the API groups: %w", env.Snapshot.Meta.Source, err)
	}
	var gvs []string
	for _, g := range groups.Groups {
		for _, v := range g.Versions {
			gvs = append(gvs, v.GroupVersion)
		}
	}
	return govern.ServedGroups(gvs), nil
}
