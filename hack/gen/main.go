// Command gen writes a synthetic cluster of any size, the same for the
// same seed, as a saved snapshot and as `kubectl get -A -o json` output:
// the input of the benchmarks (bench/) and of scale tests. It is a
// developer tool beside hack/cluster, not a purser subcommand, so that the
// shipped binary carries no generator and no hidden commands.
//
//	go run ./hack/gen -pods 150000 -snap x.snap -json export.json
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"

	"github.com/purserhq/purser/internal/scenario/synth"
	"github.com/purserhq/purser/internal/snapshot"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c synth.Config
	fs.IntVar(&c.Pods, "pods", 10000, "number of pods")
	fs.IntVar(&c.Nodes, "nodes", 0, "number of nodes (default one per 30 pods, at least 3)")
	fs.IntVar(&c.Namespaces, "namespaces", 0, "number of namespaces (default one per 15 pods, at least 2)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed: the same seed and sizes give the same cluster")
	snapPath := fs.String("snap", "", "write the saved snapshot to this file")
	jsonPath := fs.String("json", "", "write the objects as `kubectl get -A -o json` prints them to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *snapPath == "" && *jsonPath == "" {
		return errors.New("nothing to write: give -snap FILE, -json FILE or both")
	}
	if c.Pods < 1 || c.Nodes < 0 || c.Namespaces < 0 {
		return fmt.Errorf("-pods must be positive and -nodes, -namespaces not negative (got %d, %d, %d)", c.Pods, c.Nodes, c.Namespaces)
	}
	s, faults := synth.Generate(c)
	if *snapPath != "" {
		if err := write(*snapPath, func(w io.Writer) error { return snapshot.Encode(ctx, w, s) }); err != nil {
			return err
		}
	}
	if *jsonPath != "" {
		if err := write(*jsonPath, func(w io.Writer) error { return synth.WriteKubectlJSON(ctx, w, s) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "%d nodes, %d namespaces, %d pods, %d services; planted faults:", len(s.Nodes), len(s.Namespaces), len(s.Pods), len(s.Services))
	ids := make([]string, 0, len(faults))
	for id := range faults {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(stderr, " %s %d", id, faults[id])
	}
	fmt.Fprintln(stderr)
	return nil
}

func write(path string, fn func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if err := fn(w); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
