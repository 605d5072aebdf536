// Command localcluster starts and stops a detached local control plane for
// people, from the repository root:
//
//	go run ./internal/testcluster/cmd/localcluster up [--dir DIR]
//	go run ./internal/testcluster/cmd/localcluster down [--dir DIR]
//
// up returns once the cluster is ready and prints the export line for its
// kubeconfig; the processes keep running until down. DIR defaults to
// .cache/kcluster/cluster and keeps etcd's data between up and down.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/purserhq/purser/internal/testcluster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "localcluster: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "up" && args[0] != "down") {
		return errors.New("usage: localcluster up|down [--dir DIR] [--bin DIR]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".cache/kcluster/cluster", "`directory` for the cluster's data, logs and kubeconfig")
	bin := fs.String("bin", "", "`directory` of the control-plane binaries (default $"+testcluster.EnvBinDir+", else .cache/kcluster/bin)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if args[0] == "down" {
		if err := testcluster.StopDir(*dir); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "localcluster: stopped the control plane in %s\n", *dir)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	c, err := testcluster.Start(ctx, testcluster.Options{BinDir: *bin, Dir: *dir, Detach: true, Logs: stderr})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "export KUBECONFIG=%s\n", c.Kubeconfig)
	return nil
}
