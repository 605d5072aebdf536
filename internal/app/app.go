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
)

// Main runs purser with args and returns the process exit code: 0 when all
// went well, 1 on error, 2 when findings reach the --fail-on threshold.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := Run(ctx, genericiooptions.IOStreams{In: stdin, Out: stdout, ErrOut: stderr}, args)
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

// Run executes one purser command line.
func Run(ctx context.Context, streams genericiooptions.IOStreams, args []string) error {
	root := cli.NewRoot(streams)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
