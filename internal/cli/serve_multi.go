package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/alert/notify"
	"github.com/purserhq/purser/internal/server"
	"github.com/purserhq/purser/internal/server/dashboard"
	"github.com/purserhq/purser/internal/store"
)

// validateClusters refuses what names or elects one cluster only.
func (o *ServeOptions) validateClusters(targets []clusterTarget) error {
	switch {
	case o.ClusterName != "":
		return fmt.Errorf("--cluster-name names one cluster; with several (%s) each is filed under its context, or its name in purser.yaml's clusters", targetNames(targets))
	case o.LeaderElect:
		return fmt.Errorf("--leader-elect is not supported yet with several clusters (%s): run one replica, or one purser serve per cluster", targetNames(targets))
	}
	return o.Env.validateClusters(targets)
}

// runFleet serves several clusters from one store: one scan loop per
// cluster, each recording under its name, behind one listener.
func (o *ServeOptions) runFleet(ctx context.Context, targets []clusterTarget) error {
	if err := o.validateClusters(targets); err != nil {
		return err
	}
	log := loggerFrom(ctx)
	cfg, err := action.LoadConfig(o.Env.ConfigPath, false)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, o.Store.Target)
	if err != nil {
		return err
	}
	defer st.Close()
	retention, err := o.Store.retention()
	if err != nil {
		return err
	}
	senders, err := notify.New(cfg.Watch.Notifiers, notify.Options{})
	if err != nil {
		return err
	}
	var auth server.Authenticator
	if o.Auth == "kubernetes" {
		// Tokens are reviewed by the first cluster's API server: the one
		// whose RBAC says who may read every cluster's reports.
		kube, _, err := o.Env.restConfigFor(targets[0])()
		if err != nil {
			return fmt.Errorf("--auth kubernetes reviews tokens with cluster %s's API server: %w", targets[0].name, err)
		}
		client, err := kubernetes.NewForConfig(kube)
		if err != nil {
			return fmt.Errorf("a client for %s: %w", kube.Host, err)
		}
		attrs, _ := server.ParseAuthResource(o.AuthResource)
		auth = &server.KubeAuth{Client: client, Attrs: attrs}
	}
	// The dashboards read their server's latest scan once the fleet
	// exists.
	var fleet atomic.Pointer[server.Fleet]
	var all []server.Options
	links := make([]dashboard.ClusterLink, len(targets))
	for i, t := range targets {
		links[i] = dashboard.ClusterLink{Name: t.name, Path: server.DashboardPath(i, t.name) + "/"}
	}
	for i, t := range targets {
		here := slices.Clone(links)
		here[i].Current = true
		book := o.Env.PriceBook
		if book == "" {
			book = t.priceBook
		}
		rc, name := o.Env.restConfigFor(t), t.name
		opts := server.Options{Store: st, Cluster: name, Interval: o.Interval, Retention: retention, Rules: cfg.Watch.EffectiveRules(), Senders: senders,
			ExternalURL: cfg.Watch.ExternalURL, TopNamespaces: o.TopNamespaces, Clock: clock.RealClock{}, Log: log.With("cluster", name), Auth: auth,
			Scan: func(ctx context.Context) (*action.Env, error) {
				env, err := action.NewEnv(ctx, action.Options{Source: action.Source{REST: rc}, ConfigPath: o.Env.ConfigPath,
					Prices: action.PriceOptions{Book: book, EnvToken: os.Getenv("DIGITALOCEAN_TOKEN")}, Log: log.With("cluster", name)})
				if err != nil {
					return nil, fmt.Errorf("cluster %s: %w", name, err)
				}
				env.Snapshot.Meta.Cluster = name
				return env, nil
			}}
		if opts.Dashboard, err = dashboard.New(dashboard.Options{Store: st, Cluster: name, Clock: opts.Clock, Log: opts.Log,
			BasePath: server.DashboardPath(i, name), Clusters: here,
			Current: func(context.Context) (*dashboard.Current, error) {
				f := fleet.Load()
				if f == nil {
					return nil, nil
				}
				l := f.Server(name).Latest()
				if l == nil {
					return nil, nil
				}
				return &dashboard.Current{Env: l.Env, Audit: l.Audit, Cost: l.Cost, ScannedAt: l.ScannedAt}, nil
			}}); err != nil {
			return err
		}
		all = append(all, opts)
	}
	f, err := server.NewFleet(all)
	if err != nil {
		return err
	}
	fleet.Store(f)
	l, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", o.Listen, err)
	}
	fmt.Fprintf(o.streams.ErrOut, "serving %d clusters (%s) on http://%s (history in %s, a scan of each every %s; ?cluster=NAME picks one)\n",
		len(targets), strings.Join(f.Clusters(), ", "), l.Addr(), st, o.Interval)
	return f.Run(ctx, l)
}
