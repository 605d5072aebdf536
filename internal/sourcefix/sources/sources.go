// Package sources is purser.yaml's sources section: where workloads come
// from when the cluster cannot say. It is apart from sourcefix so that the
// config, which every command reads, does not link kustomize and helm's
// callers.
package sources

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/purserhq/purser/internal/yamldoc"
)

// Config is purser.yaml's sources section: where workloads come from when
// the cluster cannot say (a kustomize overlay leaves no trace on the
// objects it builds) and the Helm charts whose values key paths Purser may
// look for (the release's values and templates are not in a snapshot:
// Helm keeps them in sh.helm.release.v1.* Secrets, whose payload Purser
// never reads).
//
//	sources:
//	  kustomize:
//	    shop/api: deploy/overlays/prod          # namespace/name of the workload
//	    shop/StatefulSet/db: deploy/overlays/db # namespace/Kind/name when names clash
//	  helm:
//	    shop/web:                               # namespace/release
//	      chart: charts/web                     # a local chart directory
//	      values: [deploy/web-prod.yaml]        # the release's own values, as installed
//	    shop/db:                                # no chart at hand:
//	      manifest: releases/db.manifest.yaml   #   helm get manifest db -n shop
//	      values: [releases/db.values.yaml]     #   helm get values --all db -n shop
type Config struct {
	Kustomize map[string]string    `yaml:"kustomize"`
	Helm      map[string]HelmChart `yaml:"helm"`
}

// HelmChart is where a Helm release's chart can be read.
type HelmChart struct {
	// Chart is a local chart directory, rendered with `helm template`.
	Chart string `yaml:"chart"`
	// Manifest is the release's rendered manifest (helm get manifest),
	// for when the chart is not at hand: a container's values key is
	// then the one values key holding its resources, matched, not
	// rendered. It needs Values, as helm get values --all prints them.
	Manifest string `yaml:"manifest"`
	// Values are values files the release was installed with, in order
	// (what `helm get values` prints): a chart that draws a container
	// only when a value enables it needs them to draw it.
	Values []string `yaml:"values"`
}

// Validate checks the keys and paths of the section.
func (c Config) Validate() error {
	for _, k := range SortedKeys(c.Kustomize) {
		if _, err := parseWorkloadKey(k); err != nil {
			return yamldoc.Fieldf("kustomize", "%q: %v", k, err)
		}
		if strings.TrimSpace(c.Kustomize[k]) == "" {
			return yamldoc.Fieldf("kustomize", "%q: no overlay path", k)
		}
	}
	for _, k := range SortedKeys(c.Helm) {
		if _, _, err := parseReleaseKey(k); err != nil {
			return yamldoc.Fieldf("helm", "%q: %v", k, err)
		}
		h := c.Helm[k]
		if strings.TrimSpace(h.Chart) == "" && strings.TrimSpace(h.Manifest) == "" {
			return yamldoc.Fieldf("helm", "%q: no chart directory and no manifest", k)
		}
		if h.Chart == "" && len(h.Values) == 0 {
			return yamldoc.Fieldf("helm", "%q: a manifest needs the release's values (helm get values --all) to match keys with", k)
		}
	}
	return nil
}

// Resolve returns c with every relative path taken against dir (the
// config file's directory), so that a run from another directory reads
// the same files.
func (c Config) Resolve(dir string) Config {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) || dir == "" {
			return p
		}
		return filepath.Join(dir, p)
	}
	out := Config{}
	if c.Kustomize != nil {
		out.Kustomize = map[string]string{}
		for k, v := range c.Kustomize {
			out.Kustomize[k] = abs(v)
		}
	}
	if c.Helm != nil {
		out.Helm = map[string]HelmChart{}
		for k, v := range c.Helm {
			h := HelmChart{Chart: abs(v.Chart), Manifest: abs(v.Manifest)}
			for _, f := range v.Values {
				h.Values = append(h.Values, abs(f))
			}
			out.Helm[k] = h
		}
	}
	return out
}

// workloadKey is a kustomize key: namespace, name and, when given, kind.
type workloadKey struct{ Namespace, Kind, Name string }

func parseWorkloadKey(k string) (workloadKey, error) {
	parts := strings.Split(k, "/")
	var w workloadKey
	switch len(parts) {
	case 2:
		w = workloadKey{Namespace: parts[0], Name: parts[1]}
	case 3:
		w = workloadKey{Namespace: parts[0], Kind: parts[1], Name: parts[2]}
		if !IsWorkloadKind(w.Kind) {
			return w, fmt.Errorf("kind %q is not one of Deployment, StatefulSet, DaemonSet, CronJob, Job, ReplicaSet, Pod", w.Kind)
		}
	default:
		return w, fmt.Errorf("expected namespace/name or namespace/Kind/name")
	}
	if errs := validation.IsDNS1123Label(w.Namespace); len(errs) > 0 {
		return w, fmt.Errorf("namespace %q: %s", w.Namespace, errs[0])
	}
	if errs := validation.IsDNS1123Subdomain(w.Name); len(errs) > 0 {
		return w, fmt.Errorf("name %q: %s", w.Name, errs[0])
	}
	return w, nil
}

func parseReleaseKey(k string) (ns, release string, err error) {
	ns, release, ok := strings.Cut(k, "/")
	if !ok || strings.Contains(release, "/") {
		return "", "", fmt.Errorf("expected namespace/release")
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return "", "", fmt.Errorf("namespace %q: %s", ns, errs[0])
	}
	// Helm's own rule for release names: a DNS label of at most 53 bytes.
	if errs := validation.IsDNS1123Label(release); len(errs) > 0 || len(release) > 53 {
		return "", "", fmt.Errorf("release %q is not a Helm release name", release)
	}
	return ns, release, nil
}

// KustomizeOverlay returns the overlay configured for a workload: an
// entry naming its kind first, then one naming only its namespace and name.
func (c Config) KustomizeOverlay(ns, kind, name string) (string, bool) {
	if p, ok := c.Kustomize[ns+"/"+kind+"/"+name]; ok {
		return p, true
	}
	p, ok := c.Kustomize[ns+"/"+name]
	return p, ok
}

// IsWorkloadKind reports whether k is a kind whose pods' resources a
// change can name.
func IsWorkloadKind(k string) bool {
	switch k {
	case "Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "ReplicaSet", "Pod":
		return true
	}
	return false
}

// SortedKeys returns m's keys in order.
func SortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
