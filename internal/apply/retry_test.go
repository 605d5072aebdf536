package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// timeoutErr is a client's own timeout: the request may or may not have
// reached the server.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "Client.Timeout exceeded while awaiting headers" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestRetryTransient(t *testing.T) {
	t.Parallel()
	cm := schema.GroupResource{Resource: "configmaps"}
	tests := []struct {
		name string
		// errs are what the attempts return, in order; past the end they
		// succeed.
		errs      []error
		wantCalls int
		wantErr   bool
		wantWaits []time.Duration
	}{
		{"success at once", nil, 1, false, nil},
		{"500 then success", []error{apierrors.NewInternalError(errors.New("boom"))}, 2, false, []time.Duration{250 * time.Millisecond}},
		{"503 honours Retry-After", []error{apierrors.NewServiceUnavailable("busy"), fmt.Errorf("applying x: %w", apierrors.NewTooManyRequests("slow down", 3))}, 3, false,
			[]time.Duration{250 * time.Millisecond, 3 * time.Second}},
		{"a client timeout, wrapped", []error{fmt.Errorf("reading x: %w", &url.Error{Op: "Get", URL: "https://x", Err: timeoutErr{}})}, 2, false, []time.Duration{250 * time.Millisecond}},
		{"a cut connection", []error{fmt.Errorf("applying x: %w", &url.Error{Op: "Patch", URL: "https://x", Err: io.ErrUnexpectedEOF})}, 2, false, []time.Duration{250 * time.Millisecond}},
		{"a conflict is never repeated", []error{apierrors.NewConflict(cm, "x", errors.New("changed"))}, 1, true, nil},
		{"not found is not transient", []error{apierrors.NewNotFound(cm, "x")}, 1, true, nil},
		{"a blocked step stops", []error{errors.New("step 3: blocked")}, 1, true, nil},
		{"bounded", slices.Repeat([]error{apierrors.NewInternalError(errors.New("boom"))}, 10), transientAttempts, true,
			[]time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var waits []time.Duration
			calls := 0
			err := retryTransient(t.Context(), slog.New(slog.DiscardHandler), "step 1", func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			}, func() error {
				calls++
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			})
			if (err != nil) != tt.wantErr || calls != tt.wantCalls || !slices.Equal(waits, tt.wantWaits) {
				t.Errorf("err %v after %d calls, waits %v; want error %v after %d calls, waits %v", err, calls, waits, tt.wantErr, tt.wantCalls, tt.wantWaits)
			}
		})
	}
}

func TestRetryTransientStopsWithItsContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	err := retryTransient(ctx, slog.New(slog.DiscardHandler), "step 1", sleepCtx, func() error {
		calls++
		cancel()
		return apierrors.NewInternalError(errors.New("boom"))
	})
	if err == nil || calls != 1 {
		t.Errorf("a cancelled run was retried: %d calls, %v", calls, err)
	}
}
