package server

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/store"
)

// metrics are read from the store at scrape time: every replica, leader
// or not, shows the same figures, and a restart loses none. Only the scan
// counters and durations are this process's own.
type metrics struct {
	s             *Server
	scans         *prometheus.CounterVec
	scanDuration  prometheus.Histogram
	openFindings  *prometheus.Desc
	oldestOpen    *prometheus.Desc
	monthlyCost   *prometheus.Desc
	lastScan      *prometheus.Desc
	lastScanFinds *prometheus.Desc
	alertsFiring  *prometheus.Desc
	scrapeErrors  prometheus.Counter
}

func newMetrics(s *Server) *metrics {
	return &metrics{
		s: s,
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "purser_scans_total",
			Help: "Scans this process ran, by result (success or error)."}, []string{"result"}),
		scanDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "purser_scan_duration_seconds",
			Help: "How long a scan cycle took: collection, audit, cost, recording, alerts.", Buckets: prometheus.ExponentialBuckets(0.25, 2, 10)}),
		openFindings: prometheus.NewDesc("purser_open_findings", "Open findings in the history store, by check and severity.", []string{"check", "severity"}, nil),
		oldestOpen:   prometheus.NewDesc("purser_oldest_open_finding_age_seconds", "Age of the oldest open finding of each check.", []string{"check"}, nil),
		monthlyCost: prometheus.NewDesc("purser_monthly_cost", "Monthly cost of the latest priced scan, by grouping (namespace, team, pool, environment) and group; "+
			"each grouping keeps its costliest groups and sums the rest as \"other\".", []string{"grouping", "group", "currency"}, nil),
		lastScan:      prometheus.NewDesc("purser_last_successful_scan_timestamp_seconds", "When the latest recorded scan finished.", nil, nil),
		lastScanFinds: prometheus.NewDesc("purser_last_scan_findings", "Findings of the latest recorded scan.", nil, nil),
		alertsFiring:  prometheus.NewDesc("purser_alerts_firing", "Alerts firing, by rule.", []string{"rule"}, nil),
		scrapeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "purser_metrics_store_errors_total",
			Help: "Scrapes that could not read the history store."}),
	}
}

func (m *metrics) observeScan(d time.Duration, err error) {
	m.scanDuration.Observe(d.Seconds())
	if err != nil {
		m.scans.WithLabelValues("error").Inc()
		return
	}
	m.scans.WithLabelValues("success").Inc()
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.scans.Describe(ch)
	m.scanDuration.Describe(ch)
	m.scrapeErrors.Describe(ch)
	for _, d := range []*prometheus.Desc{m.openFindings, m.oldestOpen, m.monthlyCost, m.lastScan, m.lastScanFinds, m.alertsFiring} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.scans.Collect(ch)
	m.scanDuration.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.collectStore(ctx, ch); err != nil {
		m.s.log.Warn("metrics: reading the history store", "error", err)
		m.scrapeErrors.Inc()
	}
	m.scrapeErrors.Collect(ch)
}

func (m *metrics) collectStore(ctx context.Context, ch chan<- prometheus.Metric) error {
	st, cluster, now := m.s.opts.Store, m.s.opts.Cluster, m.s.clock.Now()
	open, err := st.Findings(ctx, store.FindingFilter{Cluster: cluster, State: "open"})
	if err != nil {
		return err
	}
	type cs struct{ check, sev string }
	counts := map[cs]int{}
	oldest := map[string]time.Time{}
	for _, f := range open {
		counts[cs{f.Check, f.Severity.String()}]++
		if o, ok := oldest[f.Check]; !ok || f.FirstSeen.Before(o) {
			oldest[f.Check] = f.FirstSeen
		}
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(m.openFindings, prometheus.GaugeValue, float64(n), k.check, k.sev)
	}
	for c, at := range oldest {
		ch <- prometheus.MustNewConstMetric(m.oldestOpen, prometheus.GaugeValue, now.Sub(at).Seconds(), c)
	}
	firing, err := st.Alerts(ctx, store.AlertFilter{Cluster: cluster, Phases: []alert.Phase{alert.Firing}})
	if err != nil {
		return err
	}
	byRule := map[string]int{}
	for _, a := range firing {
		byRule[a.Rule]++
	}
	for r, n := range byRule {
		ch <- prometheus.MustNewConstMetric(m.alertsFiring, prometheus.GaugeValue, float64(n), r)
	}
	latest, err := st.Latest(ctx, cluster)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ch <- prometheus.MustNewConstMetric(m.lastScan, prometheus.GaugeValue, float64(latest.Finished.UnixMilli())/1000)
	ch <- prometheus.MustNewConstMetric(m.lastScanFinds, prometheus.GaugeValue, float64(latest.Findings))
	_, scan, err := st.Scan(ctx, latest.ID)
	if err != nil {
		return err
	}
	groups := map[string][]costRow{}
	for _, g := range scan.Cost {
		groups[g.By] = append(groups[g.By], costRow{g.Key, g.Monthly})
	}
	for by, rows := range groups {
		for _, r := range TopN(rows, m.s.opts.TopNamespaces) {
			ch <- prometheus.MustNewConstMetric(m.monthlyCost, prometheus.GaugeValue, r.amount.Float(), by, r.key, r.amount.Currency)
		}
	}
	return nil
}

type costRow struct {
	key    string
	amount money.Amount
}

// TopN keeps the n costliest rows and sums the rest into one "other"
// row, so that a cluster with thousands of namespaces adds n+1 series,
// not thousands. Ties break by key, so the set is stable between scrapes.
func TopN(rows []costRow, n int) []costRow {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b costRow) int {
		if c := cmp.Compare(b.amount.Micros, a.amount.Micros); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key)
	})
	if len(rows) <= n {
		return rows
	}
	other := costRow{key: "other", amount: money.New(rows[n].amount.Currency, 0)}
	for _, r := range rows[n:] {
		if sum, err := other.amount.Add(r.amount); err == nil {
			other.amount = sum
		}
	}
	return append(rows[:n:n], other)
}
