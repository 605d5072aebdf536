// Package live collects a snapshot from a running cluster: one paged,
// cluster-wide LIST per kind, several kinds at once, protobuf for built-in
// kinds, Secrets as metadata only. It is the only part of the snapshot
// model that talks to an API server, so that engines importing the model
// never link a client.
package live

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/purserhq/purser/internal/snapshot"
)

// CollectOptions tune a live collection.
type CollectOptions struct {
	// PageSize is the LIST limit; 500 unless set.
	PageSize int64
	// Parallelism is how many kinds are listed at once; 6 unless set.
	Parallelism int
	// Context names the kubeconfig context, for the snapshot's Meta.
	Context string
	// Events, when set, receives the progress of every LIST.
	Events snapshot.ListEventSink
	// Clock dates the snapshot and times the lists; the real clock when nil.
	Clock clock.PassiveClock
}

// Collect reads a live cluster into a snapshot: one cluster-wide, paged
// LIST per kind, several kinds at once, protobuf for built-in kinds.
// Secrets are listed as metadata tables, so their values never leave the
// API server. Every other listable namespaced kind is listed as metadata
// to answer "is this namespace empty". A kind the caller may not list is
// recorded as unknown, not as empty.
func Collect(ctx context.Context, cfg *rest.Config, opts CollectOptions) (*snapshot.Snapshot, error) {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 500
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = 6
	}
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("building client for %s: %w", cfg.Host, err)
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("building discovery client for %s: %w", cfg.Host, err)
	}
	ver, err := dc.ServerVersion()
	switch {
	case apierrors.IsUnauthorized(err):
		return nil, fmt.Errorf("the Kubernetes API server at %s refused the credentials (401 Unauthorized): check the kubeconfig's user or token: %w", cfg.Host, err)
	case err != nil:
		return nil, fmt.Errorf("cannot reach the Kubernetes API server at %s: %w", cfg.Host, err)
	}
	s := &snapshot.Snapshot{Meta: snapshot.Meta{
		FormatVersion: snapshot.FormatVersion,
		Source:        "live:" + cfg.Host,
		Context:       opts.Context,
		ServerVersion: ver.GitVersion,
		CollectedAt:   opts.Clock.Now().UTC(),
	}}

	sch, err := collectScheme()
	if err != nil {
		return nil, err
	}
	c := &collector{cfg: cfg, http: httpClient, opts: opts, s: s, rest: map[schema.GroupVersion]*rest.RESTClient{},
		codecs: serializer.NewCodecFactory(sch), params: runtime.NewParameterCodec(sch)}
	if c.meta, err = metadata.NewForConfigAndClient(cfg, httpClient); err != nil {
		return nil, fmt.Errorf("building metadata client for %s: %w", cfg.Host, err)
	}
	// The served groups answer whether an autoscaler's metrics API
	// exists; a refusal leaves it unknown rather than failing the read.
	if groups, err := dc.ServerGroups(); err == nil {
		s.Meta.ServedAPIs = servedAPIs(groups)
	}
	// Which deprecated APIs clients still call is only in the API
	// server's metrics, which RBAC often keeps from users: unreadable
	// leaves it unknown.
	if reqs, err := deprecatedRequests(ctx, dc.RESTClient()); err == nil {
		s.Meta.DeprecatedRequests = &reqs
	}
	others, discoveryGaps := c.otherKinds(dc)
	for _, gap := range discoveryGaps {
		s.SetKind(gap)
	}

	type job struct {
		name string
		run  func(ctx context.Context, l *list) (snapshot.KindStatus, error)
	}
	var jobs []job
	for _, k := range snapshot.ModelledKinds() {
		if k.Resource().Resource == "secrets" {
			jobs = append(jobs, job{k.GroupResource(), func(ctx context.Context, l *list) (snapshot.KindStatus, error) { return c.listSecrets(ctx, l, k) }})
			continue
		}
		jobs = append(jobs, job{k.GroupResource(), func(ctx context.Context, l *list) (snapshot.KindStatus, error) { return c.listKind(ctx, l, k) }})
	}
	otherRefs := make([][]snapshot.ObjectRef, len(others))
	for i, o := range others {
		name := snapshot.KindStatus{Group: o.Group, Resource: o.Resource}.GroupResource()
		jobs = append(jobs, job{name, func(ctx context.Context, l *list) (snapshot.KindStatus, error) {
			st, refs, err := c.listMetadata(ctx, l, o)
			otherRefs[i] = refs
			return st, err
		}})
	}
	c.total = len(jobs)

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Parallelism)
	for _, j := range jobs {
		g.Go(func() error {
			l := c.startList(j.name)
			st, err := j.run(gctx, l)
			if err != nil {
				return err
			}
			l.end(st)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, refs := range otherRefs {
		s.Others = append(s.Others, refs...)
	}
	snapshot.SortObjectRefs(s.Others)
	// Admission already refused negative requests and requests above
	// limits, but nothing bounds what a kubelet, a virtual node or anyone
	// allowed to write node status reports as capacity, nor a request far
	// beyond any machine. Such a value is refused as it is in a file, not
	// dropped with a warning: without the node its pods would look
	// unscheduled and its cost would vanish from every total, without the
	// pod a tenant could hide a workload from the audit, and a snapshot
	// saved from this cluster must load again.
	if err := snapshot.Validate(s); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", cfg.Host, err)
	}
	return s, nil
}

type collector struct {
	cfg  *rest.Config
	http *http.Client
	opts CollectOptions
	s    *snapshot.Snapshot
	meta metadata.Interface
	// codecs decode every modelled kind and params encode list options
	// for each: client-go's scheme knows the built-in kinds, not
	// CustomResourceDefinitions.
	codecs serializer.CodecFactory
	params runtime.ParameterCodec

	mu   sync.Mutex
	rest map[schema.GroupVersion]*rest.RESTClient

	// progress guards the snapshot's kind records and the events, which
	// sinks receive one at a time.
	progress    sync.Mutex
	done, total int
}

// list follows one kind's LIST, for its events.
type list struct {
	c     *collector
	name  string
	start time.Time
	items int
}

func (c *collector) startList(name string) *list {
	l := &list{c: c, name: name, start: c.opts.Clock.Now()}
	l.emit(snapshot.ListStarted)
	return l
}

// page counts n more objects; a restarted list starts again from 0.
func (l *list) page(n int, restarted bool) {
	if restarted {
		l.items = 0
	}
	l.items += n
	l.emit(snapshot.ListPage)
}

// end records the kind's status in the snapshot and reports it; both under
// one lock, so that Done grows by one from event to event.
func (l *list) end(st snapshot.KindStatus) {
	t, reason := snapshot.ListDone, ""
	if st.Listed() {
		l.items = st.Count
	} else {
		t, reason = snapshot.ListUnreadable, st.Error
	}
	l.c.progress.Lock()
	defer l.c.progress.Unlock()
	l.c.s.SetKind(st)
	l.c.done++
	l.send(t, reason)
}

func (l *list) emit(t snapshot.ListEventType) {
	l.c.progress.Lock()
	defer l.c.progress.Unlock()
	l.send(t, "")
}

// send delivers one event; the caller holds c.progress.
func (l *list) send(t snapshot.ListEventType, reason string) {
	if l.c.opts.Events == nil {
		return
	}
	l.c.opts.Events(snapshot.ListEvent{Type: t, GroupResource: l.name, Items: l.items, Done: l.c.done, Total: l.c.total,
		Elapsed: l.c.opts.Clock.Since(l.start), Reason: reason})
}

// restFor returns a protobuf client for one group version.
func (c *collector) restFor(gv schema.GroupVersion) (*rest.RESTClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rc, ok := c.rest[gv]; ok {
		return rc, nil
	}
	cfg := rest.CopyConfig(c.cfg)
	cfg.GroupVersion = &gv
	cfg.APIPath = "/apis"
	if gv.Group == "" {
		cfg.APIPath = "/api"
	}
	cfg.NegotiatedSerializer = c.codecs.WithoutConversion()
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	rc, err := rest.RESTClientForConfigAndClient(cfg, c.http)
	if err != nil {
		return nil, err
	}
	c.rest[gv] = rc
	return rc, nil
}

func statusOf(gvr schema.GroupVersionResource, kindName string, namespaced bool) snapshot.KindStatus {
	return snapshot.KindStatus{Group: gvr.Group, Version: gvr.Version, Resource: gvr.Resource, Kind: kindName, Namespaced: namespaced}
}

// unreadable turns the errors that mean "you may not read this kind" into
// a status; every other error aborts the collection.
func unreadable(st snapshot.KindStatus, err error) (snapshot.KindStatus, error) {
	switch {
	case apierrors.IsForbidden(err):
		st.Error = "forbidden: the current user may not list " + st.GroupResource()
	case apierrors.IsNotFound(err), apierrors.IsMethodNotSupported(err):
		st.Error = "not served by this API server"
	default:
		return st, fmt.Errorf("listing %s: %w", st.GroupResource(), err)
	}
	return st, nil
}

// paged runs LIST pages until the continue token runs out; page returns
// the continue token and how many objects the page held. A token that
// expired mid-way restarts the list from scratch, as client-go's pager does.
func (c *collector) paged(ctx context.Context, l *list, reset func(), page func(ctx context.Context, opts metav1.ListOptions) (string, int, error), fieldSelector string) error {
	restarted, fresh := false, false
	opts := metav1.ListOptions{Limit: c.opts.PageSize, FieldSelector: fieldSelector}
	for {
		next, n, err := page(ctx, opts)
		if apierrors.IsResourceExpired(err) && !restarted {
			restarted, fresh = true, true
			reset()
			opts.Continue = ""
			continue
		}
		if err != nil {
			return err
		}
		l.page(n, fresh)
		fresh = false
		if next == "" {
			return nil
		}
		opts.Continue = next
	}
}

func (c *collector) listKind(ctx context.Context, lst *list, k snapshot.Kind) (snapshot.KindStatus, error) {
	st := k.Status()
	rc, err := c.restFor(k.Resource().GroupVersion())
	if err != nil {
		return st, err
	}
	// Pages go to a private snapshot first so a restarted list does not
	// leave duplicates behind.
	part := &snapshot.Snapshot{}
	err = c.paged(ctx, lst, func() { part = &snapshot.Snapshot{} }, func(ctx context.Context, opts metav1.ListOptions) (string, int, error) {
		l := k.NewList()
		err := rc.Get().Resource(k.Resource().Resource).VersionedParams(&opts, c.params).Do(ctx).Into(l)
		if err != nil {
			return "", 0, err
		}
		before := k.Count(part)
		k.Append(part, l)
		return l.GetContinue(), k.Count(part) - before, nil
	}, k.FieldSelector())
	if err != nil {
		return unreadable(st, err)
	}
	k.Move(c.s, part)
	st.Count = k.Count(c.s)
	return st, nil
}

// listSecrets reads Secrets as a metadata Table: names, labels,
// annotations and type, never values.
func (c *collector) listSecrets(ctx context.Context, l *list, k snapshot.Kind) (snapshot.KindStatus, error) {
	st := k.Status()
	rc, err := c.restFor(k.Resource().GroupVersion())
	if err != nil {
		return st, err
	}
	var secrets []corev1.Secret
	err = c.paged(ctx, l, func() { secrets = nil }, func(ctx context.Context, opts metav1.ListOptions) (string, int, error) {
		raw, err := rc.Get().Resource("secrets").
			VersionedParams(&opts, scheme.ParameterCodec).
			Param("includeObject", string(metav1.IncludeMetadata)).
			SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").
			Do(ctx).Raw()
		if err != nil {
			return "", 0, err
		}
		var t metav1.Table
		if err := json.Unmarshal(raw, &t); err != nil {
			return "", 0, fmt.Errorf("decoding secrets table: %w", err)
		}
		typeCol := -1
		for i, col := range t.ColumnDefinitions {
			if col.Name == "Type" {
				typeCol = i
			}
		}
		for _, row := range t.Rows {
			var m metav1.PartialObjectMetadata
			if err := json.Unmarshal(row.Object.Raw, &m); err != nil {
				return "", 0, fmt.Errorf("decoding secret metadata: %w", err)
			}
			sec := corev1.Secret{ObjectMeta: m.ObjectMeta}
			if typeCol >= 0 && typeCol < len(row.Cells) {
				if v, ok := row.Cells[typeCol].(string); ok {
					sec.Type = corev1.SecretType(v)
				}
			}
			snapshot.SlimSecret(&sec)
			secrets = append(secrets, sec)
		}
		return t.Continue, len(t.Rows), nil
	}, "")
	if err != nil {
		return unreadable(st, err)
	}
	c.s.Secrets = append(c.s.Secrets, secrets...)
	st.Count = len(c.s.Secrets)
	return st, nil
}

// otherKind is a namespaced, listable kind that Purser does not model.
type otherKind struct {
	schema.GroupVersionResource
	Kind string
}

// otherKinds discovers every other listable namespaced kind. Groups whose
// discovery failed are returned as unknown kinds.
func (c *collector) otherKinds(dc discovery.DiscoveryInterface) ([]otherKind, []snapshot.KindStatus) {
	lists, err := discovery.ServerPreferredNamespacedResources(dc)
	var gaps []snapshot.KindStatus
	if err != nil {
		var failed *discovery.ErrGroupDiscoveryFailed
		if errors.As(err, &failed) {
			for gv, gerr := range failed.Groups {
				gaps = append(gaps, snapshot.KindStatus{Group: gv.Group, Version: gv.Version, Resource: "*", Kind: "*",
					Namespaced: true, Error: "discovery failed: " + gerr.Error()})
			}
		} else {
			gaps = append(gaps, snapshot.KindStatus{Version: "*", Resource: "*", Kind: "*", Namespaced: true, Error: "discovery failed: " + err.Error()})
		}
	}
	var out []otherKind
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if snapshot.IsModelled(gv.Group, r.Name) || snapshot.IsDerived(gv.Group, r.Name) || !canList(r.Verbs) {
				continue
			}
			if gv.Group == "coordination.k8s.io" && r.Name == "leases" {
				// Leases are heartbeats and leader locks held by running
				// components, not content a team put in a namespace.
				continue
			}
			out = append(out, otherKind{GroupVersionResource: gv.WithResource(r.Name), Kind: r.Kind})
		}
	}
	return out, gaps
}

func canList(verbs metav1.Verbs) bool {
	for _, v := range verbs {
		if v == "list" {
			return true
		}
	}
	return false
}

func (c *collector) listMetadata(ctx context.Context, lst *list, o otherKind) (snapshot.KindStatus, []snapshot.ObjectRef, error) {
	st := statusOf(o.GroupVersionResource, o.Kind, true)
	var refs []snapshot.ObjectRef
	err := c.paged(ctx, lst, func() { refs = nil }, func(ctx context.Context, opts metav1.ListOptions) (string, int, error) {
		l, err := c.meta.Resource(o.GroupVersionResource).List(ctx, opts)
		if err != nil {
			return "", 0, err
		}
		for _, it := range l.Items {
			refs = append(refs, snapshot.ObjectRef{Group: o.Group, Version: o.Version, Kind: o.Kind, Namespace: it.Namespace, Name: it.Name,
				WrittenThrough: snapshot.WrittenThroughVersions(it.ManagedFields, o.GroupVersion().String())})
		}
		return l.Continue, len(l.Items), nil
	}, "")
	if err != nil {
		st, err = unreadable(st, err)
		return st, nil, err
	}
	st.Count = len(refs)
	return st, refs, nil
}

// collectScheme knows the built-in kinds and CustomResourceDefinitions. It
// is built per collection rather than added to client-go's shared scheme,
// which other code in the process uses.
func collectScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := scheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("registering built-in kinds: %w", err)
	}
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("registering CustomResourceDefinitions: %w", err)
	}
	return s, nil
}

// servedAPIs lists every group/version discovery names, sorted.
func servedAPIs(groups *metav1.APIGroupList) []string {
	out := []string{}
	for _, g := range groups.Groups {
		for _, v := range g.Versions {
			out = append(out, v.GroupVersion)
		}
	}
	sort.Strings(out)
	return out
}

// deprecatedRequests reads the apiserver_requested_deprecated_apis gauge
// from the API server's /metrics.
func deprecatedRequests(ctx context.Context, rc rest.Interface) ([]snapshot.DeprecatedAPIRequest, error) {
	body, err := rc.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading /metrics: %w", err)
	}
	return parseDeprecatedRequests(body)
}

// parseDeprecatedRequests picks the series of
// apiserver_requested_deprecated_apis whose value is not 0 out of a
// Prometheus text exposition.
func parseDeprecatedRequests(body []byte) ([]snapshot.DeprecatedAPIRequest, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parsing /metrics: %w", err)
	}
	out := []snapshot.DeprecatedAPIRequest{}
	fam, ok := families["apiserver_requested_deprecated_apis"]
	if !ok {
		return out, nil
	}
	for _, m := range fam.GetMetric() {
		if m.GetGauge().GetValue() == 0 {
			continue
		}
		var r snapshot.DeprecatedAPIRequest
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "group":
				r.Group = l.GetValue()
			case "version":
				r.Version = l.GetValue()
			case "resource":
				r.Resource = l.GetValue()
			case "subresource":
				r.Subresource = l.GetValue()
			case "removed_release":
				r.RemovedRelease = l.GetValue()
			}
		}
		if r.Version != "" && r.Resource != "" {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Group+"/"+a.Version+"/"+a.Resource+"/"+a.Subresource < b.Group+"/"+b.Version+"/"+b.Resource+"/"+b.Subresource
	})
	return out, nil
}
