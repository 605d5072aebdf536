package apply

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/digitalocean/godo"

	"github.com/purserhq/purser/internal/plan"
)

// PoolsFile is the journal of a run's node-pool resizes, beside its
// journal: one record per pool before and after the resize, with the size
// it had, so that a rollback gives each pool its old size back.
const PoolsFile = "pools.jsonl"

// PoolResize is one node pool the plan resizes.
type PoolResize struct {
	Pool string `json:"pool"`
	// From is the node count the plan found; To the count it needs.
	From int `json:"from"`
	To   int `json:"to"`
}

// PoolResizes are the pool steps of a plan: every pool whose node count
// after the plan differs from today's, in the plan's order.
func PoolResizes(p *plan.Plan) []PoolResize {
	var out []PoolResize
	for _, ps := range p.Spec.Savings.Pools {
		if ps.NeededAfter != ps.Nodes && ps.NeededAfter > 0 {
			out = append(out, PoolResize{Pool: ps.Pool, From: ps.Nodes, To: ps.NeededAfter})
		}
	}
	return out
}

// PoolOptions say how to reach the DigitalOcean Kubernetes API.
type PoolOptions struct {
	Token string
	// Cluster is the ID of the DigitalOcean Kubernetes cluster.
	Cluster string
	// BaseURL replaces https://api.digitalocean.com/ (tests, proxies).
	BaseURL    string
	HTTPClient *http.Client
	// Retries is how many times a request the API refuses for now (429,
	// 5xx) is sent again; Backoff the first wait, doubled each time.
	Retries int
	Backoff time.Duration
}

// PoolRecord is one line of the pools journal.
type PoolRecord struct {
	// Type is "intent" before a resize and "done" after it; a rollback
	// writes "restore-intent" and "restore-done".
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	Pool string    `json:"pool"`
	ID   string    `json:"id"`
	// Old is the count the pool had when the run read it, New the count
	// it is set to.
	Old int `json:"old"`
	New int `json:"new"`
}

type doPools struct {
	c       *godo.Client
	cluster string
	retries int
	backoff time.Duration
}

func newDOPools(o PoolOptions) (*doPools, error) {
	if strings.TrimSpace(o.Token) == "" {
		return nil, errors.New("resizing node pools needs a DigitalOcean API token (--do-token or $DIGITALOCEAN_TOKEN)")
	}
	if o.Cluster == "" {
		return nil, errors.New("resizing node pools needs the DigitalOcean cluster's ID (--do-cluster)")
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	hc = &http.Client{Timeout: hc.Timeout, Transport: bearer{token: strings.TrimSpace(o.Token), next: hc.Transport}}
	var opts []godo.ClientOpt
	if o.BaseURL != "" {
		u := o.BaseURL
		if !strings.HasSuffix(u, "/") {
			u += "/"
		}
		opts = append(opts, godo.SetBaseURL(u))
	}
	c, err := godo.New(hc, opts...)
	if err != nil {
		return nil, fmt.Errorf("DigitalOcean API client: %w", err)
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	return &doPools{c: c, cluster: o.Cluster, retries: max(o.Retries, 0), backoff: o.Backoff}, nil
}

// bearer adds the token to each request, so that it never sits in a URL
// or a log line.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	next := b.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// retry calls f until it succeeds, fails for good, or the retries are
// spent: 429 (rate limited) and 5xx are worth another try, the rest not.
func (d *doPools) retry(ctx context.Context, what string, f func() (*godo.Response, error)) error {
	wait := d.backoff
	for n := 0; ; n++ {
		resp, err := f()
		if err == nil {
			return nil
		}
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		if n >= d.retries || status != http.StatusTooManyRequests && status < 500 {
			return fmt.Errorf("%s: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// pool finds a node pool of the cluster by name.
func (d *doPools) pool(ctx context.Context, name string) (*godo.KubernetesNodePool, error) {
	var cl *godo.KubernetesCluster
	err := d.retry(ctx, "reading DigitalOcean cluster "+d.cluster, func() (*godo.Response, error) {
		var (
			resp *godo.Response
			err  error
		)
		cl, resp, err = d.c.Kubernetes.Get(ctx, d.cluster)
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	for _, p := range cl.NodePools {
		if p != nil && p.Name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("DigitalOcean cluster %s has no node pool %q", d.cluster, name)
}

// resize sets a pool's node count. A pool with autoscaling is not
// resized: the autoscaler would undo it, and its bounds are the setting to
// change.
func (d *doPools) resize(ctx context.Context, p *godo.KubernetesNodePool, count int) error {
	if p.AutoScale {
		return fmt.Errorf("node pool %s autoscales (%d to %d nodes): change its bounds instead", p.Name, p.MinNodes, p.MaxNodes)
	}
	req := &godo.KubernetesNodePoolUpdateRequest{Name: p.Name, Count: &count}
	return d.retry(ctx, fmt.Sprintf("resizing node pool %s to %d nodes", p.Name, count), func() (*godo.Response, error) {
		_, resp, err := d.c.Kubernetes.UpdateNodePool(ctx, d.cluster, p.ID, req)
		return resp, err
	})
}

// poolJournal appends fsync'd records to a run's pools journal.
type poolJournal struct {
	f   *os.File
	now func() time.Time
}

func openPoolJournal(dir string, now func() time.Time) (*poolJournal, error) {
	path := filepath.Join(dir, PoolsFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return &poolJournal{f: f, now: now}, nil
}

func (j *poolJournal) add(r PoolRecord) error {
	r.Time = j.now().UTC()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", j.f.Name(), err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", j.f.Name(), err)
	}
	return nil
}

// ReadPoolJournal reads a run's pools journal; a missing file is no
// resize.
func ReadPoolJournal(dir string) ([]PoolRecord, error) {
	path := filepath.Join(dir, PoolsFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	var out []PoolRecord
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		var r PoolRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			// A line cut short by a crash is the last one; its resize was
			// not recorded as started.
			return out, nil
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// ResizePools resizes the pools of resizes through the DigitalOcean API,
// in order, journalling each in dir before and after: the intent with the
// size the pool has when it is read (not the plan's: someone may have
// resized it since), then done. A pool already at its size is left. The
// first failure stops the resizes; those done stay journalled.
func ResizePools(ctx context.Context, dir string, resizes []PoolResize, o PoolOptions, now func() time.Time) ([]PoolRecord, error) {
	d, err := newDOPools(o)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	j, err := openPoolJournal(dir, now)
	if err != nil {
		return nil, err
	}
	defer j.f.Close()
	var done []PoolRecord
	for _, rs := range resizes {
		p, err := d.pool(ctx, rs.Pool)
		if err != nil {
			return done, err
		}
		if p.Count == rs.To {
			continue
		}
		rec := PoolRecord{Pool: p.Name, ID: p.ID, Old: p.Count, New: rs.To}
		rec.Type = "intent"
		if err := j.add(rec); err != nil {
			return done, err
		}
		if err := d.resize(ctx, p, rs.To); err != nil {
			return done, err
		}
		rec.Type = "done"
		if err := j.add(rec); err != nil {
			return done, err
		}
		done = append(done, rec)
	}
	return done, nil
}

// RestorePools gives every pool the run of dir started to resize its old
// size back, last resized first, journalling each restore.
func RestorePools(ctx context.Context, dir string, o PoolOptions, now func() time.Time) ([]PoolRecord, error) {
	recs, err := ReadPoolJournal(dir)
	if err != nil {
		return nil, err
	}
	started := map[string]PoolRecord{}
	restored := map[string]bool{}
	var order []string
	for _, r := range recs {
		switch r.Type {
		case "intent":
			if _, ok := started[r.Pool]; !ok {
				order = append(order, r.Pool)
				started[r.Pool] = r
			}
		case "restore-done":
			restored[r.Pool] = true
		}
	}
	if len(order) == 0 {
		return nil, nil
	}
	d, err := newDOPools(o)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	j, err := openPoolJournal(dir, now)
	if err != nil {
		return nil, err
	}
	defer j.f.Close()
	var out []PoolRecord
	for i := len(order) - 1; i >= 0; i-- {
		r := started[order[i]]
		if restored[r.Pool] {
			continue
		}
		p, err := d.pool(ctx, r.Pool)
		if err != nil {
			return out, err
		}
		back := PoolRecord{Type: "restore-intent", Pool: r.Pool, ID: p.ID, Old: p.Count, New: r.Old}
		if p.Count != r.Old {
			if err := j.add(back); err != nil {
				return out, err
			}
			if err := d.resize(ctx, p, r.Old); err != nil {
				return out, err
			}
		}
		back.Type = "restore-done"
		if err := j.add(back); err != nil {
			return out, err
		}
		out = append(out, back)
	}
	return out, nil
}
