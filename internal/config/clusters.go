package config

import (
	"fmt"
	"path/filepath"
	"regexp"

	"github.com/purserhq/purser/internal/yamldoc"
)

// Cluster is one entry of purser.yaml's clusters section: a cluster that
// read commands and purser serve cover when no --context is given.
type Cluster struct {
	// Name labels the cluster's findings, cost rows and metrics; default
	// the context.
	Name string `yaml:"name"`
	// Context is the kubeconfig context the cluster is read through.
	Context string `yaml:"context"`
	// Kubeconfig is the file holding Context; default --kubeconfig,
	// $KUBECONFIG or ~/.kube/config. Relative to the config file.
	Kubeconfig string `yaml:"kubeconfig,omitempty"`
	// PriceBook prices this cluster instead of cost.priceBook. Relative
	// to the config file.
	PriceBook string `yaml:"priceBook,omitempty"`
}

// clusterName is what a cluster name may be: it ends up in metric labels,
// file names and table columns.
var clusterName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._@:/-]{0,126}[A-Za-z0-9])?$`)

// Label is the cluster's name in reports: Name, else Context.
func (c Cluster) Label() string {
	if c.Name != "" {
		return c.Name
	}
	return c.Context
}

// validateClusters checks the clusters section: every entry names a
// context, and no two entries share a name (their reports would merge).
func (c *Config) validateClusters() error {
	seen := map[string]int{}
	for i, cl := range c.Clusters {
		at := fmt.Sprintf("clusters[%d]", i)
		if cl.Context == "" {
			return &yamldoc.FieldError{Path: at + ".context", Msg: "name the kubeconfig context of this cluster"}
		}
		if cl.Name != "" && !clusterName.MatchString(cl.Name) {
			return &yamldoc.FieldError{Path: at + ".name", Msg: fmt.Sprintf("%q: letters, digits and . _ @ : / - only, at most 128", cl.Name)}
		}
		if j, ok := seen[cl.Label()]; ok {
			return &yamldoc.FieldError{Path: at, Msg: fmt.Sprintf("cluster %q is also clusters[%d]: give each cluster its own name", cl.Label(), j)}
		}
		seen[cl.Label()] = i
	}
	return nil
}

// ClusterPath resolves a path of the clusters section (kubeconfig, price
// book) against the config file's directory, as cost.priceBook is.
func (c *Config) ClusterPath(p string) string {
	doc := c.docOf("clusters")
	if p == "" || filepath.IsAbs(p) || doc.Line("") == 0 {
		return p
	}
	return filepath.Join(filepath.Dir(doc.File), p)
}
