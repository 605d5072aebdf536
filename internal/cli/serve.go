package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/alert/notify"
	"github.com/purserhq/purser/internal/server"
	"github.com/purserhq/purser/internal/server/dashboard"
	"github.com/purserhq/purser/internal/store"
)

// serviceAccountDir is where a pod finds its namespace and token.
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// ServeOptions are `purser serve`'s flags.
type ServeOptions struct {
	Env           EnvFlags
	Store         StoreFlags
	Listen        string
	Interval      time.Duration
	Auth          string
	AuthResource  string
	LeaderElect   bool
	LeaseNS       string
	ClusterName   string
	TopNamespaces int

	streams genericiooptions.IOStreams
	// inCluster is true in a pod: the defaults follow it.
	inCluster bool
}

func inPod() bool {
	_, err := os.Stat(filepath.Join(serviceAccountDir, "token"))
	return os.Getenv("KUBERNETES_SERVICE_HOST") != "" && err == nil
}

func newServeCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &ServeOptions{Env: EnvFlags{Kube: kube, withConfig: true}, streams: streams, inCluster: inPod()}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Scan the cluster on an interval, keep its history, alert, and serve the API, metrics and dashboard",
		Long: `purser serve runs Purser continuously, in the cluster or beside it. Every
--interval it reads the cluster (one paged list per kind, as purser audit does),
records the scan in the history database, evaluates the alert rules of the
config's watch section and notifies their transitions to firing and to resolved,
once each. It serves the JSON API under /api/v1/, Prometheus metrics on
/metrics, /healthz and /readyz, and the dashboard at /.

Requests need a Kubernetes bearer token allowed to get --auth-resource (checked
with TokenReview and SubjectAccessReview); --auth none is accepted on a loopback
address only. With several replicas, --leader-elect makes one of them scan,
record and notify (a coordination.k8s.io Lease); every replica serves reads.`,
		Example: `  # A first look: the embedded demo with two weeks of made-up history
  purser serve --demo --listen 127.0.0.1:8080 --auth none

  # Beside a cluster, with its history in a SQLite file
  purser serve --store purser.db --config purser.yaml --listen 127.0.0.1:8080 --auth none

  # In the cluster (the Helm chart's command)
  purser serve --store postgres://purser@db:5432/purser --config /etc/purser/purser.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(cmd); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.Listen, "listen", ":8080", "address to serve on")
	o.Store.addFlags(cmd, "the history database: a SQLite file (created if missing) or a postgres:// URL; required but with --demo (a temporary file then)")
	fs.DurationVar(&o.Interval, "interval", time.Hour, "time between scans")
	fs.StringVar(&o.Auth, "auth", "kubernetes", "kubernetes: a bearer token checked with TokenReview and SubjectAccessReview; none: no authentication, on a loopback --listen only")
	fs.StringVar(&o.AuthResource, "auth-resource", "purser.dev/reports", "what a token must be allowed to get: GROUP/RESOURCE (cluster-wide), or path to check the request path as a non-resource URL")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.inCluster, "elect one replica on a Lease to scan, record and notify (default true in a pod)")
	fs.StringVar(&o.LeaseNS, "leader-election-namespace", "", "namespace of the Lease (default: the pod's namespace)")
	fs.StringVar(&o.ClusterName, "cluster-name", "", "name the history files scans under (default: the kubeconfig context, or in-cluster)")
	fs.IntVar(&o.TopNamespaces, "metrics-top-groups", 20, "cost metrics keep the N costliest namespaces (teams, pools) and sum the rest as other")
	fs.StringVar(&o.Env.ConfigPath, "config", "", "purser.yaml: checks, teams, prices and the watch section (alert rules and notifiers)")
	fs.StringVar(&o.Env.PriceBook, "price-book", "", "price book YAML file (kind: PriceBook)")
	fs.BoolVar(&o.Env.Demo, "demo", false, "serve the embedded BlueOcean demo, with two weeks of history made up from it")
	return cmd
}

// Validate checks the flags; it changes nothing.
func (o *ServeOptions) Validate(cmd *cobra.Command) error {
	if err := o.Store.validate(); err != nil {
		return err
	}
	if o.Store.Target == "" && !o.Env.Demo {
		return errors.New("--store is required: a SQLite file or a postgres:// URL keeps the history the server serves")
	}
	if o.Interval < time.Minute {
		return fmt.Errorf("--interval %s: at least 1m; a scan lists the whole cluster", o.Interval)
	}
	if _, err := server.ParseAuthResource(o.AuthResource); o.Auth == "kubernetes" && err != nil {
		return err
	}
	if o.TopNamespaces < 1 {
		return fmt.Errorf("--metrics-top-groups %d: at least 1", o.TopNamespaces)
	}
	switch o.Auth {
	case "kubernetes":
	case "none":
		if !loopback(o.Listen) {
			return fmt.Errorf("--auth none serves the history to anyone who can connect: it is allowed on a loopback address only (--listen 127.0.0.1:8080), not %q", o.Listen)
		}
	default:
		return fmt.Errorf("--auth %q: expected kubernetes or none", o.Auth)
	}
	if o.LeaderElect && o.Env.Demo {
		if cmd.Flags().Changed("leader-elect") {
			return errors.New("--leader-elect elects among replicas of a cluster; the demo has none")
		}
		o.LeaderElect = false
	}
	return nil
}

// loopback reports whether addr listens on a loopback address only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (o *ServeOptions) restConfig() (*rest.Config, string, error) {
	if o.inCluster && ptrValue(o.Env.Kube.KubeConfig) == "" && os.Getenv("KUBECONFIG") == "" {
		cfg, err := rest.InClusterConfig()
		return cfg, "in-cluster", err
	}
	return o.Env.restConfig()
}

// Run serves until ctx ends (SIGTERM, Ctrl-C).
func (o *ServeOptions) Run(ctx context.Context) error {
	targets, err := o.Env.clusters(ctx)
	if err != nil {
		return err
	}
	if len(targets) > 1 {
		return o.runFleet(ctx, targets)
	}
	log := loggerFrom(ctx)
	cfg, err := action.LoadConfig(o.Env.ConfigPath, o.Env.Demo)
	if err != nil {
		return err
	}
	target := o.Store.Target
	if target == "" {
		dir, err := os.MkdirTemp("", "purser-demo-")
		if err != nil {
			return fmt.Errorf("a temporary history database for the demo: %w", err)
		}
		defer os.RemoveAll(dir)
		target = filepath.Join(dir, "history.db")
	}
	st, err := store.Open(ctx, target)
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
	opts := server.Options{Store: st, Interval: o.Interval, Retention: retention, Rules: cfg.Watch.EffectiveRules(), Senders: senders,
		ExternalURL: cfg.Watch.ExternalURL, TopNamespaces: o.TopNamespaces, Clock: clock.RealClock{}, Log: log}
	var kube *rest.Config
	if o.Env.Demo {
		if opts.Cluster, err = server.RecordDemoHistory(ctx, st, time.Now()); err != nil {
			return err
		}
		opts.Scan = func(ctx context.Context) (*action.Env, error) {
			return action.NewEnv(ctx, action.Options{Source: action.Source{Demo: true}, ConfigPath: o.Env.ConfigPath, Prices: action.PriceOptions{Book: o.Env.PriceBook}, Log: log})
		}
	} else {
		var ctxName string
		if kube, ctxName, err = o.restConfig(); err != nil {
			return fmt.Errorf("loading kubeconfig: %w", err)
		}
		opts.Cluster = firstOf(o.ClusterName, ctxName, "in-cluster")
		rc := func() (*rest.Config, string, error) { return kube, opts.Cluster, nil }
		opts.Scan = func(ctx context.Context) (*action.Env, error) {
			return action.NewEnv(ctx, action.Options{Source: action.Source{REST: rc}, ConfigPath: o.Env.ConfigPath,
				Prices: action.PriceOptions{Book: o.Env.PriceBook, EnvToken: os.Getenv("DIGITALOCEAN_TOKEN")}, Log: log})
		}
	}
	if kube != nil && len(cfg.Downscale.Schedules) > 0 {
		if opts.Downscale, err = newDownscaler(kube, cfg, st, opts.Cluster, "purser serve", log); err != nil {
			return err
		}
	}
	if o.Auth == "kubernetes" || o.LeaderElect {
		if kube == nil {
			if kube, _, err = o.restConfig(); err != nil {
				return fmt.Errorf("--auth kubernetes reviews tokens with a cluster's API server: %w; to try the demo alone, use --auth none on a loopback --listen", err)
			}
		}
	}
	var client kubernetes.Interface
	if kube != nil {
		if client, err = kubernetes.NewForConfig(kube); err != nil {
			return fmt.Errorf("a client for %s: %w", kube.Host, err)
		}
	}
	if o.Auth == "kubernetes" {
		attrs, _ := server.ParseAuthResource(o.AuthResource)
		opts.Auth = &server.KubeAuth{Client: client, Attrs: attrs}
	}
	// The elector may call back before the server exists.
	var srv atomic.Pointer[server.Server]
	if o.LeaderElect {
		ns := o.LeaseNS
		if ns == "" {
			b, err := os.ReadFile(filepath.Join(serviceAccountDir, "namespace"))
			if err != nil {
				return errors.New("--leader-elect needs --leader-election-namespace outside a pod")
			}
			ns = strings.TrimSpace(string(b))
		}
		host, _ := os.Hostname()
		id := firstOf(os.Getenv("POD_NAME"), host) + "-" + fmt.Sprint(os.Getpid())
		leader, err := server.Elect(ctx, server.LeaderOptions{Client: client, Namespace: ns, Identity: id, Log: log,
			OnLead: func() {
				if s := srv.Load(); s != nil {
					s.Kick()
				}
			}})
		if err != nil {
			return err
		}
		opts.Leading = leader.Leading
	}
	if opts.Dashboard, err = dashboard.New(dashboard.Options{Store: st, Cluster: opts.Cluster, Clock: opts.Clock, Log: log,
		Current: func(context.Context) (*dashboard.Current, error) {
			var l *server.Latest
			if s := srv.Load(); s != nil {
				l = s.Latest()
			}
			if l == nil {
				return nil, nil
			}
			return &dashboard.Current{Env: l.Env, Audit: l.Audit, Cost: l.Cost, ScannedAt: l.ScannedAt}, nil
		}}); err != nil {
		return err
	}
	s, err := server.New(opts)
	if err != nil {
		return err
	}
	srv.Store(s)
	l, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", o.Listen, err)
	}
	fmt.Fprintf(o.streams.ErrOut, "serving %s on http://%s (history in %s, a scan every %s)\n", opts.Cluster, l.Addr(), st, o.Interval)
	return s.Run(ctx, l)
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
