package checks

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

// TestTargetPortPatchKeepsNodePort applies the target-port fix as the API
// server would: the Service keeps its nodePort and its port's name, and
// gets the pods' port.
func TestTargetPortPatchKeepsNodePort(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "service-no-endpoints", "fail-port-name-nodeport.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.LoadManifests("fixture", data)
	if err != nil {
		t.Fatal(err)
	}
	got := serviceNoEndpoints().Run(context.Background(), &audit.Input{Index: snapshot.NewIndex(s), Config: fixtureConfig()})
	if len(got) != 1 || got[0].Remediation.Patch == nil {
		t.Fatalf("want one finding with a patch, got %+v", got)
	}
	p := got[0].Remediation.Patch
	if p.Type != "strategic" {
		t.Fatalf("patch type %q, want strategic", p.Type)
	}
	orig, err := json.Marshal(s.Services[0])
	if err != nil {
		t.Fatal(err)
	}
	patched, err := strategicpatch.StrategicMergePatch(orig, []byte(p.Body), corev1.Service{})
	if err != nil {
		t.Fatal(err)
	}
	var svc corev1.Service
	if err := json.Unmarshal(patched, &svc); err != nil {
		t.Fatal(err)
	}
	if len(svc.Spec.Ports) != 1 {
		t.Fatalf("ports after the patch: %+v", svc.Spec.Ports)
	}
	port := svc.Spec.Ports[0]
	if port.NodePort != 30080 || port.Name != "http" || port.TargetPort.IntValue() != 8080 {
		t.Errorf("port after the patch: %+v, want nodePort 30080, name http, targetPort 8080", port)
	}
}

// BlueOcean's minio and grafana each mount a ReadWriteOnce volume: the
// demo's audit must not tell them to scale, and every fix of the demo
// goes into a tree --write-fixes can write.
func TestBlueOceanFixes(t *testing.T) {
	t.Parallel()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	res, err := audit.Run(context.Background(), snapshot.NewIndex(s), Registry(), nil, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	exclusive := map[string]bool{}
	scaled := 0
	for _, f := range res.Findings {
		if f.CheckID != "deployment-single-replica-no-pdb" {
			continue
		}
		if strings.Contains(f.Remediation.Command, "--replicas=2") {
			scaled++
		}
		if strings.HasPrefix(f.Remediation.Text, "Do not scale it") {
			exclusive[f.Object.Namespace+"/"+f.Object.Name] = true
			if strings.Contains(f.Remediation.Command, "scale") || !strings.Contains(f.Remediation.Manifest, "maxUnavailable: 0") {
				t.Errorf("%s: %q with manifest\n%s", f.Object, f.Remediation.Command, f.Remediation.Manifest)
			}
		}
	}
	for _, d := range []string{"minio/minio", "monitoring/grafana"} {
		if !exclusive[d] {
			t.Errorf("%s mounts a ReadWriteOnce volume but is not told to stay single", d)
		}
	}
	if scaled == 0 {
		t.Error("no single-replica Deployment of the demo is told to scale: the check lost its main fix")
	}
	files, err := audit.FixFiles(res.Findings)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Errorf("the demo's fixes make %d files", len(files))
	}
}
