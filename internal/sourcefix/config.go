package sourcefix

import "github.com/purserhq/purser/internal/sourcefix/sources"

// Config is purser.yaml's sources section (package sources).
type Config = sources.Config

// HelmChart is where a Helm release's chart can be read.
type HelmChart = sources.HelmChart

func isWorkloadKind(k string) bool { return sources.IsWorkloadKind(k) }

func sortedKeys[V any](m map[string]V) []string { return sources.SortedKeys(m) }
