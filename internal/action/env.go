// Package action is the library every front end of Purser calls: the
// command line, the server and the executors. An Env is built once per run
// (a snapshot, its Index, the validated config, the resolved price book, a
// clock and a logger) and each verb is a type whose Run(ctx, env) returns
// a typed result that renderers, a JSON API or a store can use. Nothing in
// here prints or writes files: that is the caller's part.
package action

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/kustomize"
	"github.com/purserhq/purser/internal/snapshot/live"
)

// Env is what every verb runs on.
type Env struct {
	Snapshot *snapshot.Snapshot
	// Index is built once from Snapshot; every engine reads it.
	Index  *snapshot.Index
	Config *config.Config
	Prices Prices
	Clock  clock.PassiveClock
	Log    *slog.Logger
	// Warnings are what building the Env could only do in part: objects
	// the loader skipped, kinds that could not be listed, a price book
	// that ignores the token. A command prints them; a server keeps them.
	Warnings []string
}

// Source says where the snapshot comes from: the embedded demo, a file,
// directory or stdin ("-"), or the live cluster of a kubeconfig.
type Source struct {
	Demo bool
	// From is a saved snapshot, a YAML/JSON file or directory, or "-".
	From  string
	Stdin io.Reader
	// REST returns the live cluster's client config and the name of its
	// context; called only when neither Demo nor From is set.
	REST func() (*rest.Config, string, error)
	// CollectedAt, when set, dates a snapshot read From files (which
	// otherwise take the newest time their objects record).
	CollectedAt time.Time
	// Events, when set, hears of each list as live collection reads it
	// (a terminal's progress bar, a server's metrics).
	Events snapshot.ListEventSink
	// Limits bound what reading From may cost (input size, a saved
	// snapshot's decompressed size); zero values are the defaults.
	Limits snapshot.LoadOptions
	// Manifests, when set, are manifests to audit before they ship
	// (files, directories, kustomizations, "-"); namespaced objects
	// without a namespace get ManifestNamespace, "default" when empty.
	Manifests         []string
	ManifestNamespace string
}

// Options build an Env.
type Options struct {
	Source Source
	// ConfigPath is purser.yaml; empty gives the defaults, or the demo's
	// own config with Source.Demo.
	ConfigPath string
	Prices     PriceOptions
	Clock      clock.PassiveClock
	Log        *slog.Logger
}

// NewEnv reads the config, resolves the price book and loads the snapshot,
// in that order, so that a mistake in a file fails before a cluster is read.
func NewEnv(ctx context.Context, o Options) (*Env, error) {
	cfg, err := LoadConfig(o.ConfigPath, o.Source.Demo)
	if err != nil {
		return nil, err
	}
	env := &Env{Config: cfg, Clock: o.Clock, Log: o.Log}
	env.defaults()
	file, err := o.Prices.fileBook(cfg)
	if err != nil {
		return nil, err
	}
	s, warnings, err := LoadSnapshot(ctx, o.Source, env.Clock, env.Log)
	if err != nil {
		return nil, err
	}
	env.Warnings = append(env.Warnings, warnings...)
	env.setSnapshot(s)
	po := o.Prices
	po.Offline = po.Offline || o.Source.Demo
	if env.Prices, err = po.resolve(ctx, s, cfg, file); err != nil {
		return nil, err
	}
	env.Warnings = append(env.Warnings, env.Prices.Warnings...)
	env.Log.Debug("environment ready", "source", s.Meta.Source, "config", cfg.Path(), "prices", env.Prices.Origin)
	return env, nil
}

// NewEnvFor builds an Env around a snapshot already in memory (a server's
// latest scan, a test), with the price book resolved offline (no API
// token) unless o.Prices says otherwise.
func NewEnvFor(ctx context.Context, s *snapshot.Snapshot, cfg *config.Config, o PriceOptions) (*Env, error) {
	if cfg == nil {
		cfg = config.Default()
	}
	env := &Env{Config: cfg}
	env.defaults()
	file, err := o.fileBook(cfg)
	if err != nil {
		return nil, err
	}
	env.setSnapshot(s)
	if env.Prices, err = o.resolve(ctx, s, cfg, file); err != nil {
		return nil, err
	}
	env.Warnings = append(env.Warnings, env.Prices.Warnings...)
	return env, nil
}

// Demo builds the Env of the embedded BlueOcean cluster with its own
// config: the snapshot is decoded once and indexed once for every verb.
func Demo(ctx context.Context) (*Env, error) {
	return NewEnv(ctx, Options{Source: Source{Demo: true}})
}

func (env *Env) defaults() {
	if env.Clock == nil {
		env.Clock = clock.RealClock{}
	}
	if env.Log == nil {
		env.Log = slog.New(slog.DiscardHandler)
	}
}

func (env *Env) setSnapshot(s *snapshot.Snapshot) {
	env.Snapshot = s
	env.Index = snapshot.NewIndex(s)
}

// LoadConfig reads purser.yaml, or returns the demo's config with demo
// set, or the defaults. With both, the file's sections replace the
// demo's (config.Layer): a user experimenting with the demo changes the
// rules without losing its teams, prices and line items.
func LoadConfig(path string, demo bool) (*config.Config, error) {
	var base *config.Config
	if demo {
		var err error
		if base, err = config.Parse(scenario.DemoConfigFile, scenario.DemoConfigYAML()); err != nil {
			return nil, err
		}
	}
	switch {
	case path != "" && demo:
		over, err := config.Load(path)
		if err != nil {
			return nil, err
		}
		return config.Layer(base, over), nil
	case path != "":
		return config.Load(path)
	case demo:
		return base, nil
	}
	return config.Default(), nil
}

// LoadSnapshot reads the snapshot a Source names, with the warnings of
// reading it; clk dates a live collection.
func LoadSnapshot(ctx context.Context, src Source, clk clock.PassiveClock, log *slog.Logger) (*snapshot.Snapshot, []string, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch {
	case src.Demo && src.From != "":
		return nil, nil, fmt.Errorf("the demo and --from are exclusive: choose one source")
	case len(src.Manifests) > 0 && (src.Demo || src.From != ""):
		return nil, nil, fmt.Errorf("manifests are exclusive with the demo and --from: choose one source")
	case len(src.Manifests) > 0:
		s, err := snapshot.LoadManifestSet(ctx, src.Manifests, snapshot.ManifestOptions{Namespace: src.ManifestNamespace, Stdin: src.Stdin, Limits: src.Limits, Kustomize: kustomize.Build})
		if err != nil {
			return nil, nil, err
		}
		return s, s.Meta.Warnings, nil
	case src.Demo:
		s, err := scenario.DemoSnapshot()
		return s, nil, err
	case src.From != "":
		s, err := snapshot.LoadWithOptions(ctx, src.From, src.Stdin, src.Limits)
		if err != nil {
			return nil, nil, err
		}
		if !src.CollectedAt.IsZero() {
			s.Meta.CollectedAt = src.CollectedAt.UTC()
		}
		return s, s.Meta.Warnings, nil
	case src.REST == nil:
		return nil, nil, fmt.Errorf("no snapshot source: give a live cluster, a file or the demo")
	}
	cfg, ctxName, err := src.REST()
	if err != nil {
		return nil, nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	log.Info("collecting", "context", ctxName, "host", cfg.Host)
	s, err := live.Collect(ctx, cfg, live.CollectOptions{Context: ctxName, Events: src.Events, Clock: clk})
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	for _, k := range s.UnlistedKinds() {
		warnings = append(warnings, fmt.Sprintf("%s not read (%s): namespaces holding nothing else are reported as unknown, not empty",
			k.GroupResource(), k.Error))
	}
	return s, warnings, nil
}
