// Package app runs the purser command line: it builds the command tree,
// wires the streams and turns errors into exit codes.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/cli"
	"github.com/purserhq/purser/internal/logging"
)

// Exit codes. A run stopped by a signal exits with 128 plus the signal's
// number, as shells report it.
const (
	ExitOK          = 0   // all went well
	ExitError       = 1   // an error, reported on stderr
	ExitFindings    = 2   // findings at or above --fail-on (or --fail-on-incomplete)
	ExitInterrupted = 130 // stopped by SIGINT (Ctrl-C): 128+2
	ExitTerminated  = 143 // stopped by SIGTERM: 128+15
)

// Main runs purser with args and returns the process exit code (see the
// Exit constants). It is the process's entry point: it alone handles
// signals, routes client-go's klog output to Purser's logger, since both
// are process-wide, and reads the name it was started under (purser or
// kubectl-purser).
//
// The first SIGINT or SIGTERM cancels the command's context: the command
// stops at its next check, leaves the files it was writing as they were,
// and Main returns ExitInterrupted or ExitTerminated. A second signal ends
// the process at once with that code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := notifyContext(context.Background(), stderr, os.Exit)
	defer stop()
	streams := genericiooptions.IOStreams{In: stdin, Out: stdout, ErrOut: stderr}
	err := Run(ctx, streams, args, cli.OnLogger(logging.RouteKlog), cli.DisplayName(DisplayName(os.Args[0])))
	return exitCode(ctx, stderr, err)
}

// interrupted is the cause of a context cancelled by a signal.
type interrupted struct{ sig os.Signal }

func (e *interrupted) Error() string { return "interrupted (" + e.sig.String() + ")" }

// code is the exit code of a run stopped by e's signal.
func (e *interrupted) code() int {
	if e.sig == syscall.SIGTERM {
		return ExitTerminated
	}
	return ExitInterrupted
}

// notifyContext returns a context cancelled, with an *interrupted cause,
// by the first SIGINT or SIGTERM; a second one calls exit with the
// interrupted code. stop releases the signals.
func notifyContext(parent context.Context, stderr io.Writer, exit func(int)) (context.Context, func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, release := watchSignals(parent, sigs, stderr, exit)
	return ctx, func() {
		signal.Stop(sigs)
		release()
	}
}

// watchSignals is notifyContext on a channel of signals, so that tests
// can deliver them without signalling their own process.
func watchSignals(parent context.Context, sigs <-chan os.Signal, stderr io.Writer, exit func(int)) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	done := make(chan struct{})
	go func() {
		var first *interrupted
		select {
		case s := <-sigs:
			first = &interrupted{sig: s}
			cancel(first)
		case <-done:
			return
		}
		select {
		case <-sigs:
			fmt.Fprintln(stderr, "purser: interrupted")
			exit(first.code())
		case <-done:
		}
	}()
	return ctx, func() {
		close(done)
		cancel(nil)
	}
}

// exitCode is ExitCode for a run under ctx: a run that failed after a
// signal cancelled ctx reports "interrupted" and the interrupted code.
func exitCode(ctx context.Context, stderr io.Writer, err error) int {
	var intr *interrupted
	if err != nil && errors.As(context.Cause(ctx), &intr) {
		fmt.Fprintln(stderr, "purser: interrupted")
		return intr.code()
	}
	return ExitCode(stderr, err)
}

// Run executes one purser command line. Without options it changes no
// process-wide state, so several may run at once.
func Run(ctx context.Context, streams genericiooptions.IOStreams, args []string, opts ...cli.RootOption) error {
	root := cli.NewRoot(streams, opts...)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// ExitCode reports err on stderr and returns the exit code it stands for.
func ExitCode(stderr io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	var exit *cli.ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil {
			fmt.Fprintf(stderr, "purser: %v\n", exit.Err)
		}
		return exit.Code
	}
	fmt.Fprintf(stderr, "purser: error: %v\n", err)
	return ExitError
}
