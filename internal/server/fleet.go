package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// Fleet serves several clusters from one process and one store: a Server
// per cluster, each with its own scan loop recording under its cluster's
// name, behind one HTTP handler. /metrics labels every series with its
// cluster; the JSON API and the dashboard answer for the cluster the
// ?cluster= parameter names (the first one without it).
type Fleet struct {
	servers []*Server
	names   []string
	// auth, when set, guards /metrics as each Server guards the rest.
	auth Authenticator
}

// clusterLabel is the label /metrics adds to every series of a fleet. It
// has as many values as the fleet has clusters, so the cardinality stays
// that of one server times the number of clusters.
const clusterLabel = "cluster"

// NewFleet builds one Server per option set; each needs its own Cluster
// name. They should share the Store, the Auth and the Leading function.
func NewFleet(clusters []Options) (*Fleet, error) {
	if len(clusters) == 0 {
		return nil, errors.New("server: a fleet needs at least one cluster")
	}
	f := &Fleet{}
	for _, o := range clusters {
		if slices.Contains(f.names, o.Cluster) {
			return nil, fmt.Errorf("server: cluster %q is given twice", o.Cluster)
		}
		s, err := New(o)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", o.Cluster, err)
		}
		f.servers, f.names = append(f.servers, s), append(f.names, o.Cluster)
		f.auth = o.Auth
	}
	return f, nil
}

// Clusters are the names the fleet serves, in order.
func (f *Fleet) Clusters() []string { return slices.Clone(f.names) }

// Server returns the Server of a cluster, nil for an unknown one.
func (f *Fleet) Server(cluster string) *Server {
	if i := slices.Index(f.names, cluster); i >= 0 {
		return f.servers[i]
	}
	return nil
}

// Handler is the fleet's HTTP handler.
func (f *Fleet) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		var waiting []string
		for i, s := range f.servers {
			if !s.ready.Load() && s.leading() {
				waiting = append(waiting, f.names[i])
			}
		}
		if len(waiting) > 0 {
			http.Error(w, "no scan yet of "+strings.Join(waiting, ", "), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	var metrics http.Handler = promhttp.HandlerFor(f.gatherer(), promhttp.HandlerOpts{})
	if f.auth != nil {
		metrics = authenticate(f.auth, metrics, f.servers[0].log)
	}
	mux.Handle("GET /metrics", CSRF(metrics))
	handlers := make([]http.Handler, len(f.servers))
	for i, s := range f.servers {
		handlers[i] = s.Handler()
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// A dashboard other than the first is served under its own path,
		// so that every link of its pages stays in its cluster.
		for i := 1; i < len(f.names); i++ {
			base := DashboardPath(i, f.names[i])
			if r.URL.Path == base || strings.HasPrefix(r.URL.Path, base+"/") {
				handlers[i].ServeHTTP(w, r)
				return
			}
		}
		name := r.URL.Query().Get(clusterLabel)
		if name == "" {
			handlers[0].ServeHTTP(w, r)
			return
		}
		i := slices.Index(f.names, name)
		if i < 0 {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no cluster %q: this server watches %s", name, strings.Join(f.names, ", ")))
			return
		}
		handlers[i].ServeHTTP(w, r)
	})
	return securityHeaders(mux)
}

// clusterSlug is a cluster name that can stand in a URL path as it is.
var clusterSlug = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// DashboardPath is where the dashboard of the i-th cluster of a fleet is
// served: the first at the root, as with one cluster, the others under
// /clusters/NAME (/clusters/i when the name cannot stand in a path).
func DashboardPath(i int, name string) string {
	if i == 0 {
		return ""
	}
	if !clusterSlug.MatchString(name) {
		name = strconv.Itoa(i)
	}
	return "/clusters/" + name
}

// gatherer merges the servers' registries, each series labelled with its
// cluster. The Go runtime and process series describe the one process:
// they are taken from the first server only, unlabelled.
func (f *Fleet) gatherer() prometheus.Gatherer {
	gs := prometheus.Gatherers{}
	for i, s := range f.servers {
		gs = append(gs, clusterGatherer{g: s.reg, cluster: f.names[i], runtime: i == 0})
	}
	return gs
}

type clusterGatherer struct {
	g       prometheus.Gatherer
	cluster string
	runtime bool
}

func (c clusterGatherer) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := c.g.Gather()
	out := mfs[:0]
	for _, mf := range mfs {
		name := mf.GetName()
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			if c.runtime {
				out = append(out, mf)
			}
			continue
		}
		for _, m := range mf.Metric {
			m.Label = append(m.Label, &dto.LabelPair{Name: new(clusterLabel), Value: new(c.cluster)})
			slices.SortFunc(m.Label, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
		}
		out = append(out, mf)
	}
	return out, err
}

// Run serves on l and runs every cluster's scan loop until ctx ends,
// then stops taking requests and waits up to 10 seconds for those in
// flight.
func (f *Fleet) Run(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: f.Handler(), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	// The loops stop with the server, whichever stops first.
	loops, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	for _, s := range f.servers {
		wg.Go(func() { s.loop(loops) })
	}
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

// Kick asks every cluster's loop for a scan now.
func (f *Fleet) Kick() {
	for _, s := range f.servers {
		s.Kick()
	}
}
