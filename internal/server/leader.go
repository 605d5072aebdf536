package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaderOptions configure leader election on a coordination.k8s.io
// Lease.
type LeaderOptions struct {
	Client    kubernetes.Interface
	Namespace string
	// Name is the Lease's; "purser" by default.
	Name string
	// Identity names this replica (its pod name).
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod are client-go's; 15s,
	// 10s and 2s by default, as controller-runtime's.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// OnLead is called each time this replica starts leading.
	OnLead func()
	Log    *slog.Logger
}

// Leader is this replica's view of the election.
type Leader struct {
	leading atomic.Bool
}

// Leading reports whether this replica holds the Lease now.
func (l *Leader) Leading() bool { return l.leading.Load() }

// Elect runs leader election until ctx ends, campaigning again after a
// lost Lease; the Lease is released on the way out, so that another
// replica takes over at once after a SIGTERM.
func Elect(ctx context.Context, o LeaderOptions) (*Leader, error) {
	if o.Name == "" {
		o.Name = "purser"
	}
	if o.Namespace == "" || o.Identity == "" {
		return nil, fmt.Errorf("leader election: a namespace and an identity are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	l := &Leader{}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: o.Namespace, Name: o.Name},
		Client:     o.Client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: o.Identity},
	}
	cfg := leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   or(o.LeaseDuration, 15*time.Second),
		RenewDeadline:   or(o.RenewDeadline, 10*time.Second),
		RetryPeriod:     or(o.RetryPeriod, 2*time.Second),
		ReleaseOnCancel: true,
		Name:            o.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) {
				l.leading.Store(true)
				o.Log.Info("leading: this replica scans, records and notifies", "lease", o.Namespace+"/"+o.Name, "identity", o.Identity)
				if o.OnLead != nil {
					o.OnLead()
				}
			},
			OnStoppedLeading: func() {
				l.leading.Store(false)
				o.Log.Info("not leading: this replica serves reads only", "lease", o.Namespace+"/"+o.Name)
			},
		},
	}
	le, err := leaderelection.NewLeaderElector(cfg)
	if err != nil {
		return nil, fmt.Errorf("leader election on Lease %s/%s: %w", o.Namespace, o.Name, err)
	}
	go func() {
		for ctx.Err() == nil {
			le.Run(ctx)
		}
	}()
	return l, nil
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
