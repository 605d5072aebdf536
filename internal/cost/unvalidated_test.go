package cost_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/snapshot"
)

// loadUnvalidated builds a snapshot from YAML documents (Nodes, Pods and
// PersistentVolumes) without the loader's validation, which refuses the
// quantities these tests give: the cost engine must still refuse them in
// snapshots built in code, which nothing validated.
func loadUnvalidated(t *testing.T, data string) *snapshot.Snapshot {
	t.Helper()
	s := &snapshot.Snapshot{}
	for _, doc := range strings.Split(data, "\n---\n") {
		var h struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &h); err != nil {
			t.Fatal(err)
		}
		var err error
		switch h.Kind {
		case "Node":
			var n corev1.Node
			err = yaml.Unmarshal([]byte(doc), &n)
			s.Nodes = append(s.Nodes, n)
		case "Pod":
			var p corev1.Pod
			err = yaml.Unmarshal([]byte(doc), &p)
			s.Pods = append(s.Pods, p)
		case "PersistentVolume":
			var pv corev1.PersistentVolume
			err = yaml.Unmarshal([]byte(doc), &pv)
			s.PVs = append(s.PVs, pv)
		default:
			t.Fatalf("loadUnvalidated: kind %q", h.Kind)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if snapshot.Validate(s) == nil {
		t.Fatal("loadUnvalidated: the snapshot is valid; use load")
	}
	return s
}
