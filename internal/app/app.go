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

// Main runs purser with args and returns the process exit code: 0 when all
// went well, 1 on error, 2 when findings reach the --fail-on threshold.
// It is the process's entry point: it alone handles signals, routes
// client-go's klog output to Purser's logger, since both are process-wide,
// and reads the name it was started under (purser or kubectl-purser).
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	streams := genericiooptions.IOStreams{In: stdin, Out: stdout, ErrOut: stderr}
	return ExitCode(stderr, Run(ctx, streams, args, cli.OnLogger(logging.RouteKlog), cli.DisplayName(DisplayName(os.Args[0]))))
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
		return 0
	}
	var exit *cli.ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil {
			fmt.Fprintf(stderr, "purser: %v\n", exit.Err)
		}
		return exit.Code
	}
	fmt.Fprintf(stderr, "purser: error: %v\n", err)
	return 1
}
