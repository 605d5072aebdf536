package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/store"
)

// apiError is every error the API answers, with its status code.
type apiError struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg, Status: status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// list is every list the API answers: the items and their cluster.
type list[T any] struct {
	Cluster string `json:"cluster"`
	Items   []T    `json:"items"`
}

func (s *Server) api(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/findings", s.findings)
	mux.HandleFunc("GET /api/v1/findings/{key}/history", s.findingHistory)
	mux.HandleFunc("GET /api/v1/scans", s.scans)
	mux.HandleFunc("GET /api/v1/scans/{id}", s.scanByID)
	mux.HandleFunc("GET /api/v1/cost", s.cost)
	mux.HandleFunc("GET /api/v1/cost/daily", s.dailyCost)
	mux.HandleFunc("GET /api/v1/alerts", s.alerts)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint: "+r.Method+" "+r.URL.Path)
	})
}

// storeFailed answers a store error without its details, which may name
// the database; the log keeps them.
func (s *Server) storeFailed(w http.ResponseWriter, err error) {
	s.log.Error("API: reading the history store", "error", err)
	writeError(w, http.StatusInternalServerError, "reading the history store failed")
}

func (s *Server) findings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ff := store.FindingFilter{Cluster: s.opts.Cluster, Check: q.Get("check"), Namespace: q.Get("namespace"), State: q.Get("state")}
	switch ff.State {
	case "", "open", "resolved":
	case "all":
		ff.State = ""
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("state %q: expected open, resolved or all", ff.State))
		return
	}
	if q.Get("state") == "" {
		ff.State = "open"
	}
	var exact audit.Severity
	if sev := q.Get("severity"); sev != "" {
		v, err := audit.ParseSeverity(sev)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("severity %q: %v", sev, err))
			return
		}
		exact, ff.MinSeverity = v, v
	}
	fs, err := s.opts.Store.Findings(r.Context(), ff)
	if err != nil {
		s.storeFailed(w, err)
		return
	}
	out := fs[:0]
	for _, f := range fs {
		if q.Get("severity") == "" || f.Severity == exact {
			out = append(out, f)
		}
	}
	writeJSON(w, http.StatusOK, list[store.Finding]{Cluster: s.opts.Cluster, Items: out})
}

// findingHistory lists every occurrence of one finding identity (a
// resolved finding seen again is a new occurrence).
func (s *Server) findingHistory(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	fs, err := s.opts.Store.Findings(r.Context(), store.FindingFilter{Cluster: s.opts.Cluster})
	if err != nil {
		s.storeFailed(w, err)
		return
	}
	out := []store.Finding{}
	for _, f := range fs {
		if f.Key == key {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no finding %q", key))
		return
	}
	writeJSON(w, http.StatusOK, list[store.Finding]{Cluster: s.opts.Cluster, Items: out})
}

func limitParam(r *http.Request, def int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("limit %q: expected a number, 0 for all", v)
	}
	return n, nil
}

func (s *Server) scans(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r, 100)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	scans, err := s.opts.Store.Scans(r.Context(), s.opts.Cluster, limit)
	if err != nil {
		s.storeFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, list[store.ScanInfo]{Cluster: s.opts.Cluster, Items: scans})
}

type scanDetail struct {
	store.ScanInfo
	Scan history.Scan `json:"scan"`
}

func (s *Server) scanByID(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("scan %q: expected a number", r.PathValue("id")))
		return
	}
	info, scan, err := s.opts.Store.Scan(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && info.Cluster != s.opts.Cluster) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no scan %d", id))
		return
	}
	if err != nil {
		s.storeFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, scanDetail{ScanInfo: info, Scan: scan})
}

type costAnswer struct {
	Cluster string              `json:"cluster"`
	Scan    int64               `json:"scan"`
	At      time.Time           `json:"at"`
	By      string              `json:"by"`
	Items   []history.GroupCost `json:"items"`
}

func byParam(r *http.Request) (string, error) {
	by := r.URL.Query().Get("by")
	if by == "" {
		return "namespace", nil
	}
	switch by {
	case "pool", "namespace", "team", "environment":
	default:
		return "", fmt.Errorf("by %q: expected pool, namespace, team or environment", by)
	}
	return by, nil
}

// cost is the latest scan's monthly cost by one grouping.
func (s *Server) cost(w http.ResponseWriter, r *http.Request) {
	by, err := byParam(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	latest, err := s.opts.Store.Latest(r.Context(), s.opts.Cluster)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no scan recorded yet")
		return
	}
	if err != nil {
		s.storeFailed(w, err)
		return
	}
	_, scan, err := s.opts.Store.Scan(r.Context(), latest.ID)
	if err != nil {
		s.storeFailed(w, err)
		return
	}
	out := costAnswer{Cluster: s.opts.Cluster, Scan: latest.ID, At: latest.Finished, By: by, Items: []history.GroupCost{}}
	for _, g := range scan.Cost {
		if g.By == by {
			out.Items = append(out.Items, g)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// dailyCost is the stored daily cost between from and to (days,
// inclusive; the last 30 days by default), by one grouping.
func (s *Server) dailyCost(w http.ResponseWriter, r *http.Request) {
	by, err := byParam(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	now := s.clock.Now().UTC()
	from, to := q.Get("from"), q.Get("to")
	if to == "" {
		to = store.Day(now)
	}
	if from == "" {
		from = store.Day(now.AddDate(0, 0, -30))
	}
	for _, d := range []string{from, to} {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("day %q: expected YYYY-MM-DD", d))
			return
		}
	}
	days, err := s.opts.Store.DailyCosts(r.Context(), s.opts.Cluster, from, to)
	if err != nil {
		s.storeFailed(w, err)
		return
	}
	out := []history.DayCost{}
	for _, d := range days {
		if d.By == by {
			out = append(out, d)
		}
	}
	writeJSON(w, http.StatusOK, list[history.DayCost]{Cluster: s.opts.Cluster, Items: out})
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	af := store.AlertFilter{Cluster: s.opts.Cluster, Rule: q.Get("rule")}
	if p := q.Get("phase"); p != "" {
		switch alert.Phase(p) {
		case alert.Pending, alert.Firing, alert.Resolved:
			af.Phases = []alert.Phase{alert.Phase(p)}
		default:
			writeError(w, http.StatusBadRequest, fmt.Sprintf("phase %q: expected pending, firing or resolved", p))
			return
		}
	}
	var err error
	if af.Limit, err = limitParam(r, 500); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	as, err := s.opts.Store.Alerts(r.Context(), af)
	if err != nil {
		s.storeFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, list[alert.State]{Cluster: s.opts.Cluster, Items: as})
}
