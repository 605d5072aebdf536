package checks

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/purserhq/purser/internal/audit"
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
