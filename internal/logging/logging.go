// Package logging builds Purser's logger: log/slog records on stderr, with
// kubectl's -v scale, and client-go's klog output routed into the same
// handler so that one flag controls both.
//
// Verbosity, as in kubectl:
//
//	0   warnings and errors (the default)
//	1   info: what Purser does, step by step
//	2-5 debug: Purser's debug records and client-go's up to that level
//	6   also each API request with its status and latency
//	7-9 also request headers, as curl commands, and response bodies
package logging

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

// Level is the lowest level shown at verbosity v. klog's V(n) arrives in
// slog as level -n (logr's mapping), so -v n must let -n through; from -v 4
// on the two scales meet, slog.LevelDebug being -4, kubectl's "debug".
func Level(v int) slog.Level {
	switch {
	case v <= 0:
		return slog.LevelWarn
	case v == 1:
		return slog.LevelInfo - 1
	}
	return min(slog.LevelDebug, slog.Level(-v))
}

// New returns a logger that writes records at or above Level(v) to w as
// text. Below -v 2 the time is left out: warnings on a terminal read
// better without it, and timings only matter when debugging.
func New(w io.Writer, v int) *slog.Logger {
	opts := &slog.HandlerOptions{Level: Level(v), ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) > 0 {
			return a
		}
		switch a.Key {
		case slog.TimeKey:
			if v < 2 {
				return slog.Attr{}
			}
		case slog.LevelKey:
			if l, ok := a.Value.Any().(slog.Level); ok {
				a.Value = slog.StringValue(levelName(l))
			}
		}
		return a
	}}
	return slog.New(slog.NewTextHandler(w, opts))
}

// levelName names klog's V(n) records "V<n>" rather than slog's
// "DEBUG+3", so that -v 6 output reads like kubectl's.
func levelName(l slog.Level) string {
	if l < slog.LevelInfo && l != slog.LevelDebug {
		return fmt.Sprintf("V%d", -int(l))
	}
	return l.String()
}

// RouteKlog sends klog's output to l and sets klog's verbosity to v, so
// that client-go logs what kubectl would at -v v, through l's handler.
//
// klog keeps its logger and verbosity in variables of its own package, for
// the whole process, and changing them while another goroutine logs is a
// data race. So only the process's entry point calls RouteKlog, once,
// after parsing flags and before any client exists (client-go decides at
// construction whether to wrap a transport with request logging). Code
// that runs commands concurrently, such as tests, leaves klog alone.
func RouteKlog(l *slog.Logger, v int) error {
	if err := setKlogVerbosity(v); err != nil {
		return err
	}
	// Not contextual: every klog call, contextual ones included, then goes
	// through klog's own verbosity check, which matches the handler's.
	klog.SetLogger(logr.FromSlogHandler(klogHandler{l.With("logger", "klog").Handler()}))
	return nil
}

// ResetKlog undoes RouteKlog: klog writes to stderr again, at verbosity
// 0. It is subject to the same rule: no other goroutine may be logging.
func ResetKlog() {
	klog.ClearLogger()
	_ = setKlogVerbosity(0)
}

func setKlogVerbosity(v int) error {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	if err := fs.Set("v", strconv.Itoa(max(v, 0))); err != nil {
		return fmt.Errorf("setting klog verbosity %d: %w", v, err)
	}
	return nil
}

// klogHandler raises klog's unconditional records to warnings. klog hands
// records to its logr backend without their severity: klog.Warning, and
// the API server's "Warning:" headers that client-go's default handler
// logs, arrive as V(0) info, which kubectl shows by default. Raised, they
// stay visible at -v 0; V(1) and above keep their level.
type klogHandler struct{ h slog.Handler }

func raise(l slog.Level) slog.Level {
	if l == slog.LevelInfo {
		return slog.LevelWarn
	}
	return l
}

func (k klogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return k.h.Enabled(ctx, raise(l))
}

func (k klogHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = raise(r.Level)
	return k.h.Handle(ctx, r)
}

func (k klogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return klogHandler{k.h.WithAttrs(as)}
}

func (k klogHandler) WithGroup(name string) slog.Handler {
	return klogHandler{k.h.WithGroup(name)}
}
