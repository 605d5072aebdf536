// Package server is `purser serve`: it scans a cluster on an interval
// through the action layer, records each scan in the history store,
// evaluates the alert rules and delivers their notifications, and serves
// the JSON API (/api/v1/…), /metrics, /healthz and /readyz, and the
// dashboard at / (another package's handler). Reads come from the store,
// so every replica serves them; only the replica holding the leader
// Lease scans, records and notifies.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/utils/clock"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/alert/notify"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/store"
)

// CSP is the Content-Security-Policy of every response: the HTML
// reports' policy (nothing from elsewhere, no script, no framing), with
// the server's own origin allowed for the dashboard's embedded styles,
// images and GET filter forms.
const CSP = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Options configure a Server.
type Options struct {
	Store *store.Store
	// Cluster is the name scans are filed under.
	Cluster string
	// Scan builds a fresh Env of the cluster: one collection.
	Scan      func(ctx context.Context) (*action.Env, error)
	Interval  time.Duration
	Retention store.Retention
	Rules     []alert.Rule
	Senders   []*notify.Sender
	// ExternalURL is where users reach the server; notifications link to it.
	ExternalURL string
	// Auth guards everything but /healthz and /readyz; nil serves
	// without authentication (a loopback address only: the CLI checks).
	Auth Authenticator
	// TopNamespaces bounds the namespace label of the cost metrics: the
	// N costliest namespaces, the rest summed as "other".
	TopNamespaces int
	// Leading reports whether this replica leads; nil means it always
	// does (no leader election).
	Leading func() bool
	// Dashboard, when set, is mounted at /.
	Dashboard http.Handler
	// Downscale, when set, runs the night scale-down every minute.
	Downscale Downscaler
	Clock     clock.WithTicker
	Log       *slog.Logger
}

// Server serves one cluster's history.
type Server struct {
	opts    Options
	clock   clock.WithTicker
	log     *slog.Logger
	reg     *prometheus.Registry
	metrics *metrics
	// ready turns true after the first successful scan, or at once on a
	// replica that does not lead (it serves what the store holds).
	ready atomic.Bool
	kick  chan struct{}
	// latest is the last scan this replica ran; nil on a follower and
	// before the first scan.
	latest atomic.Pointer[Latest]
}

// Latest is the last scan a server ran, as the dashboard shows it.
type Latest struct {
	Env   *action.Env
	Audit *audit.Result
	// Cost is nil when the scan could not be priced.
	Cost      *action.CostResult
	ScannedAt time.Time
}

// Latest returns the last scan this replica ran, nil before the first
// one and on a replica that does not lead (its pages read the store).
func (s *Server) Latest() *Latest { return s.latest.Load() }

// New builds a server.
func New(o Options) (*Server, error) {
	if o.Store == nil || o.Scan == nil || o.Cluster == "" {
		return nil, errors.New("server: a store, a scanner and a cluster name are required")
	}
	if o.Interval <= 0 {
		o.Interval = time.Hour
	}
	if o.TopNamespaces <= 0 {
		o.TopNamespaces = 20
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: o, clock: o.Clock, log: o.Log, reg: prometheus.NewRegistry(), kick: make(chan struct{}, 1)}
	s.metrics = newMetrics(s)
	if err := s.reg.Register(s.metrics); err != nil {
		return nil, fmt.Errorf("server: registering metrics: %w", err)
	}
	if err := s.reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("server: registering metrics: %w", err)
	}
	if err := s.reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("server: registering metrics: %w", err)
	}
	return s, nil
}

// Registry is the server's own metrics registry.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

func (s *Server) leading() bool { return s.opts.Leading == nil || s.opts.Leading() }

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() && s.leading() {
			http.Error(w, "no scan yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	protected := http.NewServeMux()
	protected.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	s.api(protected)
	// The dashboard is mounted here, at /, by its own package.
	if s.opts.Dashboard != nil {
		protected.Handle("/", s.opts.Dashboard)
	}
	var guarded http.Handler = protected
	if s.opts.Auth != nil {
		guarded = authenticate(s.opts.Auth, protected, s.log)
	}
	mux.Handle("/", CSRF(guarded))
	return securityHeaders(mux)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", CSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// CSRF refuses cross-origin requests that change state (anything but
// GET, HEAD and OPTIONS), from the browser's Sec-Fetch-Site and Origin
// headers. Requests with neither (curl, scripts carrying a bearer token,
// which a browser never attaches on its own) pass.
func CSRF(h http.Handler) http.Handler {
	p := http.NewCrossOriginProtection()
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusForbidden, "cross-origin request refused")
	}))
	return p.Handler(h)
}

// Run serves on l and scans every interval while leading, until ctx ends;
// then it stops taking requests and waits up to 10 seconds for those in
// flight (SIGTERM in a pod).
func (s *Server) Run(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	go s.loop(ctx)
	go s.downscaleLoop(ctx)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// Tick scans when this replica leads; a replica that does not lead
// only serves what the store holds, and is ready at once. It reports
// whether it scanned.
func (s *Server) Tick(ctx context.Context) (bool, error) {
	if !s.leading() {
		s.ready.Store(true)
		return false, nil
	}
	_, err := s.ScanOnce(ctx)
	return true, err
}

// Kick asks the loop for a scan now (a replica that just became the
// leader should not wait an interval).
func (s *Server) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// loop scans at once, then every interval and when kicked, while this
// replica leads.
func (s *Server) loop(ctx context.Context) {
	t := s.clock.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		_, _ = s.Tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		case <-s.kick:
		}
	}
}
