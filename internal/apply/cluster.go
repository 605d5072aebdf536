package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/purserhq/purser/internal/snapshot"
)

// cluster holds the clients a run uses.
type cluster struct {
	cfg  *rest.Config
	kube kubernetes.Interface
	meta metadata.Interface
	disc discovery.DiscoveryInterface
	dyn  dynamic.Interface
	// mapper finds the resource of a kind, by discovery cached for the run.
	mapper meta.RESTMapper
}

func newCluster(cfg *rest.Config) (*cluster, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("building client for %s: %w", cfg.Host, err)
	}
	c := &cluster{cfg: cfg}
	if c.kube, err = kubernetes.NewForConfigAndClient(cfg, hc); err != nil {
		return nil, fmt.Errorf("building client for %s: %w", cfg.Host, err)
	}
	if c.meta, err = metadata.NewForConfigAndClient(cfg, hc); err != nil {
		return nil, fmt.Errorf("building metadata client for %s: %w", cfg.Host, err)
	}
	if c.disc, err = discovery.NewDiscoveryClientForConfigAndClient(cfg, hc); err != nil {
		return nil, fmt.Errorf("building discovery client for %s: %w", cfg.Host, err)
	}
	if c.dyn, err = dynamic.NewForConfigAndClient(cfg, hc); err != nil {
		return nil, fmt.Errorf("building dynamic client for %s: %w", cfg.Host, err)
	}
	c.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.disc))
	return c, nil
}

// namespaceHolds lists what namespace ns holds beyond the objects
// Kubernetes puts in every namespace, by discovery over every namespaced
// kind that can be listed, as the namespace controller itself finds what
// to delete. It applies the snapshot's rule: a kind that cannot be
// discovered or listed makes the namespace unknown, and unknown is not
// empty, so it is returned in unknown and blocks the deletion. Derived
// kinds (Events, Endpoints, EndpointSlices) and Leases are not content.
// It reads metadata only: a Secret's values are never read.
func (c *cluster) namespaceHolds(ctx context.Context, ns string) (found, unknown []string, err error) {
	lists, derr := discovery.ServerPreferredNamespacedResources(c.disc)
	if derr != nil {
		var failed *discovery.ErrGroupDiscoveryFailed
		if !errors.As(derr, &failed) {
			return nil, nil, fmt.Errorf("discovering the namespaced kinds: %w", derr)
		}
		for gv, gerr := range failed.Groups {
			unknown = append(unknown, fmt.Sprintf("%s (discovery failed: %v)", gv, gerr))
		}
	}
	type kind struct {
		gvr  schema.GroupVersionResource
		kind string
	}
	var kinds []kind
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") || snapshot.IsDerived(gv.Group, r.Name) ||
				gv.Group == "discovery.k8s.io" && r.Name == "endpointslices" || gv.Group == "coordination.k8s.io" && r.Name == "leases" {
				continue
			}
			kinds = append(kinds, kind{gv.WithResource(r.Name), r.Kind})
		}
	}
	results := make([][]string, len(kinds))
	unlisted := make([]string, len(kinds))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(6)
	for i, k := range kinds {
		g.Go(func() error {
			names, err := c.listNamespaced(gctx, k.gvr, k.kind, ns)
			switch {
			case err != nil && gctx.Err() != nil:
				return gctx.Err()
			case err != nil:
				unlisted[i] = fmt.Sprintf("%s (%v)", k.gvr.GroupResource(), err)
			}
			results[i] = names
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	for i := range kinds {
		found = append(found, results[i]...)
		if unlisted[i] != "" {
			unknown = append(unknown, unlisted[i])
		}
	}
	slices.Sort(found)
	slices.Sort(unknown)
	return found, unknown, nil
}

// listNamespaced names the objects of one kind in ns, as "Kind name",
// leaving out the defaults of every namespace. Secrets are listed in two
// halves by type, so that the default ServiceAccount's token is told
// apart without reading any Secret's data.
func (c *cluster) listNamespaced(ctx context.Context, gvr schema.GroupVersionResource, kind, ns string) ([]string, error) {
	list := func(fieldSelector string, keep func(metav1.Object) bool) ([]string, error) {
		var out []string
		opts := metav1.ListOptions{Limit: 500, FieldSelector: fieldSelector}
		for {
			l, err := c.meta.Resource(gvr).Namespace(ns).List(ctx, opts)
			if err != nil {
				return nil, err
			}
			for i := range l.Items {
				if keep(&l.Items[i]) {
					out = append(out, kind+" "+l.Items[i].Name)
				}
			}
			if l.Continue == "" {
				return out, nil
			}
			opts.Continue = l.Continue
		}
	}
	if gvr.Group == "" && gvr.Resource == "secrets" {
		const token = string(corev1.SecretTypeServiceAccountToken)
		others, err := list("type!="+token, func(metav1.Object) bool { return true })
		if err != nil {
			return nil, err
		}
		tokens, err := list("type="+token, func(o metav1.Object) bool {
			s := &corev1.Secret{ObjectMeta: *o.(*metav1.PartialObjectMetadata).ObjectMeta.DeepCopy(), Type: corev1.SecretTypeServiceAccountToken}
			return !snapshot.IsDefaultObject("Secret", s)
		})
		return append(others, tokens...), err
	}
	return list("", func(o metav1.Object) bool { return !snapshot.IsDefaultObject(kind, o) })
}

// namespace reads a namespace; nil when it does not exist.
func (c *cluster) namespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	ns, err := c.kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading namespace %s: %w", name, err)
	}
	return ns, nil
}

// deleteNamespace deletes a namespace if it still has the UID and
// resourceVersion given, on the server's dry run when dryRun is set. The
// finalizers are left to run: Purser never strips them.
func (c *cluster) deleteNamespace(ctx context.Context, o Object, dryRun bool) error {
	uid, rv := types.UID(o.UID), o.ResourceVersion
	opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if err := c.kube.CoreV1().Namespaces().Delete(ctx, o.Name, opts); err != nil {
		return fmt.Errorf("deleting namespace %s (uid %s, resourceVersion %s): %w", o.Name, o.UID, o.ResourceVersion, err)
	}
	return nil
}

// waitGone waits, at most timeout, until the namespace with uid is gone
// (or replaced by another of the same name). A namespace still there at the
// end is reported with its phase and conditions: what its finalizers wait
// for.
func (c *cluster) waitGone(parent context.Context, name, uid string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var last *corev1.Namespace
	var lastErr error
	for {
		// A failed read is retried until the bound: the client's rate
		// limiter refuses a call that would end past the deadline before
		// the deadline itself, and an API server may blink.
		ns, err := c.namespace(ctx, name)
		switch {
		case err == nil && (ns == nil || string(ns.UID) != uid):
			return nil
		case err == nil:
			last = ns
		default:
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if err := parent.Err(); err != nil {
				return err
			}
			if last == nil && lastErr != nil {
				return fmt.Errorf("namespace %s: still unknown after %s: %w", name, timeout, lastErr)
			}
			return stuckError(name, timeout, last)
		case <-tick.C:
		}
	}
}

// stuckError says why a namespace is still Terminating: the conditions the
// namespace controller sets name the content and finalizers it waits for.
func stuckError(name string, timeout time.Duration, ns *corev1.Namespace) error {
	if ns == nil {
		return fmt.Errorf("namespace %s: still there after %s", name, timeout)
	}
	var conds []string
	for _, c := range ns.Status.Conditions {
		if c.Status == corev1.ConditionTrue {
			conds = append(conds, fmt.Sprintf("%s: %s", c.Type, c.Message))
		}
	}
	msg := fmt.Sprintf("namespace %s is still %s after %s", name, ns.Status.Phase, timeout)
	var fin []string
	for _, f := range ns.Spec.Finalizers {
		fin = append(fin, string(f))
	}
	if fin = append(fin, ns.Finalizers...); len(fin) > 0 {
		msg += fmt.Sprintf(" (finalizers %s: purser never strips them)", strings.Join(fin, ", "))
	}
	if len(conds) > 0 {
		msg += "; " + strings.Join(conds, "; ")
	}
	return errors.New(msg)
}
