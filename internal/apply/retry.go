package apply

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"time"

	"golang.org/x/net/http2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// Bounds of the retries of a step that failed on a transient error.
const (
	transientAttempts = 5
	transientFirst    = 250 * time.Millisecond
	transientMost     = 8 * time.Second
)

// transient tells whether err is one a healthy API server gives now and
// then and a repeat may not: a server error, an overload, a timeout, a
// connection cut. A conflict, a refusal or a missing object is not: the
// step that met it stops and says so.
func transient(err error) bool {
	if err == nil {
		return false
	}
	switch {
	case apierrors.IsInternalError(err), apierrors.IsServerTimeout(err), apierrors.IsTimeout(err),
		apierrors.IsTooManyRequests(err), apierrors.IsServiceUnavailable(err):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), utilnet.IsConnectionReset(err), utilnet.IsProbableEOF(err):
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var se http2.StreamError
	if errors.As(err, &se) {
		return true
	}
	var code apierrors.APIStatus
	if errors.As(err, &code) {
		switch code.Status().Code {
		case 500, 502, 503, 504:
			return true
		}
	}
	return false
}

// retryTransient runs fn, and runs it again, a bounded number of times
// with a growing pause, while it fails on a transient error. Each step
// judges where it stands from what the cluster shows, so running it again
// is safe even when the failed attempt's write reached the server: the
// step finds its own object (by the run's label, or the UID it recorded)
// instead of writing another. A server's Retry-After is honoured when it
// asks for longer than the pause.
func retryTransient(ctx context.Context, log *slog.Logger, what string, sleep func(context.Context, time.Duration) error, fn func() error) error {
	pause := transientFirst
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == transientAttempts || ctx.Err() != nil || !transient(err) {
			return err
		}
		wait := pause
		if s, ok := apierrors.SuggestsClientDelay(err); ok && time.Duration(s)*time.Second > wait {
			wait = time.Duration(s) * time.Second
		}
		log.Warn("transient API error, trying again", "step", what, "attempt", attempt, "wait", wait, "err", err)
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		pause = min(2*pause, transientMost)
	}
}

// sleepCtx pauses for d, or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
