package checks

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// BenchmarkManifestChecks runs the checks written for manifests on a set
// of 500 namespaces, each with five Deployments, their Services (one
// selecting nothing) and a quota, to show they grow with the set, not
// with its square.
func BenchmarkManifestChecks(b *testing.B) {
	var doc strings.Builder
	for n := range 500 {
		ns := fmt.Sprintf("team-%d", n)
		fmt.Fprintf(&doc, "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: %s}\nspec: {hard: {pods: \"4\"}}\n---\n", ns)
		for d := range 5 {
			fmt.Fprintf(&doc, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app-%d, namespace: %s}\nspec:\n  selector: {matchLabels: {app: app-%d}}\n"+
				"  template:\n    metadata: {labels: {app: app-%d}}\n    spec: {containers: [{name: c, image: \"app:1\", envFrom: [{configMapRef: {name: cfg-%d}}]}]}\n---\n",
				d, ns, d, d, d)
			fmt.Fprintf(&doc, "apiVersion: v1\nkind: Service\nmetadata: {name: app-%d, namespace: %s}\nspec: {selector: {app: app-%d}, ports: [{port: 80}]}\n---\n",
				d, ns, d+1)
		}
	}
	s, err := snapshot.LoadManifests("big.yaml", []byte(doc.String()))
	if err != nil {
		b.Fatal(err)
	}
	ix := snapshot.NewIndex(s)
	in := &audit.Input{Index: ix, Config: fixtureConfig(), Mode: audit.ModeManifests}
	for b.Loop() {
		for _, c := range []audit.Check{serviceSelectorMatchesNothing(), workloadMissingReference(), quotaExceeded()} {
			if len(c.Run(context.Background(), in)) == 0 {
				b.Fatalf("%s found nothing", c.ID())
			}
		}
	}
}
