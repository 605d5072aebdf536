package apply

import (
	"context"
	"time"

	"k8s.io/client-go/rest"
)

// WaitGone exposes the wait for a deleted namespace to the live tests.
func WaitGone(ctx context.Context, cfg *rest.Config, name, uid string, timeout time.Duration) error {
	cl, err := newCluster(cfg)
	if err != nil {
		return err
	}
	return cl.waitGone(ctx, name, uid, timeout)
}

// NamespaceHolds exposes the discovery-based emptiness check to the live
// tests.
func NamespaceHolds(ctx context.Context, cfg *rest.Config, ns string) (found, unknown []string, err error) {
	cl, err := newCluster(cfg)
	if err != nil {
		return nil, nil, err
	}
	return cl.namespaceHolds(ctx, ns)
}
