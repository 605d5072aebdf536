// Command cluster starts Purser's local control plane for people: `up`
// starts it in the background, loads a scenario and prints the KUBECONFIG
// line; `down` stops it. Tests use internal/testcluster directly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/scenario/clusterload"
	"github.com/purserhq/purser/internal/testcluster"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "cluster: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: cluster up|down [--dir DIR] [--bin DIR] [--scenario blueocean|none]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	dir := fs.String("dir", ".cache/kcluster/run", "working directory of the cluster")
	bin := fs.String("bin", "", "directory of the control-plane binaries")
	sc := fs.String("scenario", "blueocean", "scenario to load: blueocean or none")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	switch args[0] {
	case "down":
		if err := testcluster.StopDir(abs); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "local cluster stopped")
		return nil
	case "up":
	default:
		return fmt.Errorf("unknown subcommand %q: expected up or down", args[0])
	}
	if *sc != "blueocean" && *sc != "none" {
		return fmt.Errorf("--scenario %q: expected blueocean or none", *sc)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A cluster left running from an earlier `up` is stopped first, so
	// the directory holds one cluster only.
	_ = testcluster.StopDir(abs)
	if err := os.RemoveAll(abs); err != nil {
		return err
	}
	c, err := testcluster.Start(ctx, testcluster.Options{BinDir: *bin, Dir: abs, Detach: true, Logs: os.Stderr})
	if err != nil {
		return err
	}
	if *sc == "blueocean" {
		if err := clusterload.Load(ctx, c.Config, scenario.BlueOcean(), os.Stderr); err != nil {
			_ = c.Stop()
			return fmt.Errorf("loading BlueOcean: %w", err)
		}
	}
	fmt.Fprintf(os.Stderr, "local cluster running (stop it with `make cluster-down`); logs in %s\n", abs)
	fmt.Printf("export KUBECONFIG=%s\n", c.Kubeconfig)
	return nil
}
