// Package dashboard serves Purser's web pages: the overview, findings,
// cost, plan review and history of one cluster, rendered on the server
// from the history store and the latest scan held in memory. It is
// read-only and needs no JavaScript: every feature is a link or a GET
// form, so it works with scripts off and under a policy that forbids
// them. The server mounts the handler New returns; authentication and
// the JSON API live there.
package dashboard

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// CSP is the Content-Security-Policy of every page. It is the reports'
// (report.CSPMeta) with two changes a served page needs: the style sheet
// is a file of this server rather than inline ('self' is the stricter of
// the two), and forms may submit to this server, since the filters are
// GET forms. No script runs, nothing is fetched from elsewhere, and no
// other site may frame the pages.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Current is the latest scan the server holds in memory: what the
// findings' causes and fixes, the pools' health and the plan review are
// read from, since the store keeps only what history needs.
type Current struct {
	Env   *action.Env
	Audit *audit.Result
	// Cost is nil when the scan priced nothing.
	Cost *action.CostResult
	// ScannedAt is when the scan ran.
	ScannedAt time.Time
	// Plans, when the server built them with the scan, are its plans by
	// strategy: the overview and the plan review use them rather than
	// plan again on every request. A strategy missing here is planned
	// when a page asks for it.
	Plans map[string]*plan.Plan
}

// Options configure the dashboard.
type Options struct {
	Store *store.Store
	// Current returns the latest scan; it may return nil before the
	// first scan has finished, and the pages then say so.
	Current func(ctx context.Context) (*Current, error)
	// Cluster is the name the store files the cluster's scans under.
	Cluster string
	// Clock dates "open for N days" and the month of the cost charts.
	Clock clock.PassiveClock
	// BasePath is where the handler is mounted ("" or "/dashboard"); links
	// and the style sheet are under it.
	BasePath string
	// Clusters, when a server watches several, link the header to each
	// cluster's dashboard; empty for one cluster.
	Clusters []ClusterLink
	Log      *slog.Logger
}

// ClusterLink is a cluster's dashboard in the header's cluster selector.
type ClusterLink struct {
	Name string
	// Path is where its dashboard is served, such as "/clusters/dev/".
	Path string
	// Current marks the cluster of the page shown.
	Current bool
}

// handler serves the pages; it holds nothing that changes after New.
type handler struct {
	o     Options
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New returns the dashboard's handler.
func New(o Options) (http.Handler, error) {
	if o.Store == nil {
		return nil, errors.New("dashboard: no history store")
	}
	if o.Current == nil {
		return nil, errors.New("dashboard: no function for the current scan")
	}
	if o.Cluster == "" {
		return nil, errors.New("dashboard: no cluster name")
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.BasePath = strings.TrimRight(o.BasePath, "/")
	if o.BasePath != "" && !strings.HasPrefix(o.BasePath, "/") {
		return nil, fmt.Errorf("dashboard: base path %q must start with /", o.BasePath)
	}
	h := &handler{o: o, pages: map[string]*template.Template{}}
	for _, name := range []string{"overview", "findings", "finding", "cost", "plan", "history", "error"} {
		t, err := template.New("layout.html").Funcs(h.funcs()).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard: template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("dashboard: static files: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", h.page("overview", h.overview))
	mux.HandleFunc("GET /findings", h.page("findings", h.findings))
	mux.HandleFunc("GET /findings/{key}", h.page("finding", h.finding))
	mux.HandleFunc("GET /cost", h.page("cost", h.cost))
	mux.HandleFunc("GET /plan", h.page("plan", h.plan))
	mux.HandleFunc("GET /history", h.page("history", h.history))
	h.mux = mux
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "the dashboard is read-only: only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if h.o.BasePath != "" {
		rest, ok := strings.CutPrefix(p, h.o.BasePath)
		if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
			http.NotFound(w, r)
			return
		}
		if rest == "" {
			http.Redirect(w, r, h.o.BasePath+"/", http.StatusMovedPermanently)
			return
		}
		r2 := *r
		u := *r.URL
		u.Path, u.RawPath = rest, ""
		r2.URL = &u
		r = &r2
	}
	h.mux.ServeHTTP(w, r)
}

// httpError is an error with the status a page answers it with.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, a ...any) error {
	return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, a...)}
}

// chrome is what every page shows around its content.
type chrome struct {
	Title   string
	Nav     string
	Cluster string
	Base    string
	Now     string
	// Clusters are the other dashboards of a server over several.
	Clusters []ClusterLink
}

// page renders one page from what build returns, whole before anything
// is written, so that an error gives an error page rather than half a
// page with status 200.
func (h *handler) page(name string, build func(*http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := build(r)
		status := http.StatusOK
		if err != nil {
			var he *httpError
			status = http.StatusInternalServerError
			msg := "the page could not be built; the server log says why"
			if errors.As(err, &he) {
				status, msg = he.status, he.msg
			} else {
				h.o.Log.Error("dashboard page", "page", name, "error", err)
			}
			name, data = "error", errorPage{Chrome: h.chrome("Error", ""), Status: status, Message: msg}
		}
		var b bytes.Buffer
		if err := h.pages[name].Execute(&b, data); err != nil {
			h.o.Log.Error("dashboard template", "page", name, "error", err)
			http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		if r.Method == http.MethodHead {
			return
		}
		// As the reports do: control and bidirectional characters that
		// cluster text may carry are made visible; html/template escapes
		// markup only.
		_, _ = w.Write([]byte(output.TerminalText(b.String())))
	}
}

type errorPage struct {
	Chrome  chrome
	Status  int
	Message string
}

func (h *handler) chrome(title, nav string) chrome {
	return chrome{Title: title, Nav: nav, Cluster: h.o.Cluster, Base: h.o.BasePath, Now: h.o.Clock.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Clusters: h.o.Clusters}
}

func (h *handler) current(ctx context.Context) (*Current, error) {
	c, err := h.o.Current(ctx)
	if err != nil {
		return nil, fmt.Errorf("the latest scan of %s: %w", h.o.Cluster, err)
	}
	return c, nil
}
