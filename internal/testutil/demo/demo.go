// Package demo hands tests the embedded BlueOcean demo: its snapshot, its
// purser.yaml and its cost, failing the test when one cannot be had.
//
// Each call decodes afresh (about 10 ms for the snapshot). Tests change
// what they get, such as a snapshot's time, and run in parallel; one
// decoded copy shared between them would let a change in one test leak
// into another.
package demo

import (
	"context"
	"testing"

	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

// Snapshot returns a fresh copy of the embedded BlueOcean snapshot.
func Snapshot(t testing.TB) *snapshot.Snapshot {
	t.Helper()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Config returns the BlueOcean demo's purser.yaml.
func Config(t testing.TB) *config.Config {
	t.Helper()
	c, err := config.Parse(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Cost prices the demo with its own purser.yaml and the embedded
// DigitalOcean price book, as `purser cost --demo` does.
func Cost(t testing.TB) *cost.Result {
	t.Helper()
	book, err := pricing.DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config(t)
	if book, err = cfg.Cost.Apply(book); err != nil {
		t.Fatal(err)
	}
	r, err := cost.Allocate(context.Background(), snapshot.NewIndex(Snapshot(t)), cost.Input{Book: book, Config: cfg.Cost, Rules: cfg.Classify})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
