package snapshot

import (
	"bytes"
	"testing"
)

// The slim model keeps, of managedFields, only the entry of a Deployment
// or StatefulSet that owns spec.replicas (the evidence of who scaled it),
// cut to that field; every other entry and every other kind's are dropped,
// and the entry survives the saved format.
func TestReplicasManagerKept(t *testing.T) {
	t.Parallel()
	const doc = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  managedFields:
  - manager: helm
    operation: Update
    apiVersion: apps/v1
    time: "2026-10-01T10:00:00Z"
    fieldsType: FieldsV1
    fieldsV1: {"f:spec": {"f:template": {"f:spec": {"f:containers": {}}}}}
  - manager: kubectl
    operation: Update
    subresource: scale
    apiVersion: apps/v1
    time: "2026-11-02T08:30:00Z"
    fieldsType: FieldsV1
    fieldsV1: {"f:spec": {"f:replicas": {}}}
  - manager: kube-controller-manager
    operation: Update
    subresource: status
    apiVersion: apps/v1
    time: "2026-11-02T08:31:00Z"
    fieldsType: FieldsV1
    fieldsV1: {"f:status": {"f:replicas": {}}}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web:1}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: shop
  managedFields:
  - manager: argocd-controller
    operation: Apply
    apiVersion: apps/v1
    time: "2026-09-01T00:00:00Z"
    fieldsType: FieldsV1
    fieldsV1: {"f:spec": {"f:serviceName": {}}}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: db:1}]}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: shop
  managedFields:
  - manager: kubectl
    operation: Update
    apiVersion: v1
    fieldsType: FieldsV1
    fieldsV1: {"f:data": {}}
`
	s, err := LoadManifests("fixture", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for name, snap := range loadedAndReloaded(t, s) {
		if len(snap.Deployments) != 1 || len(snap.StatefulSets) != 1 || len(snap.ConfigMaps) != 1 {
			t.Fatalf("%s: objects lost", name)
		}
		mf := snap.Deployments[0].ManagedFields
		if len(mf) != 1 {
			t.Fatalf("%s: deployment keeps %d entries, want the one owning spec.replicas: %+v", name, len(mf), mf)
		}
		e := mf[0]
		if e.Manager != "kubectl" || e.Operation != "Update" || e.Subresource != "scale" || e.Time == nil ||
			e.Time.UTC().Format("2006-01-02T15:04:05Z") != "2026-11-02T08:30:00Z" {
			t.Errorf("%s: kept entry %+v, want kubectl's scale of 2026-11-02T08:30:00Z", name, e)
		}
		if e.FieldsV1 == nil || string(e.FieldsV1.Raw) != replicasFields {
			t.Errorf("%s: kept fields %v, want only spec.replicas", name, e.FieldsV1)
		}
		if got := snap.StatefulSets[0].ManagedFields; len(got) != 0 {
			t.Errorf("%s: statefulset keeps entries that do not own spec.replicas: %+v", name, got)
		}
		if got := snap.ConfigMaps[0].ManagedFields; len(got) != 0 {
			t.Errorf("%s: configmap keeps managedFields: %+v", name, got)
		}
	}
}

// A pod keeps the image ID of a container whose spec names a mutable tag
// (the digest it can be pinned to) and drops the others.
func TestImageIDKeptForMutableTags(t *testing.T) {
	t.Parallel()
	const doc = `apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop}
spec:
  containers:
  - {name: latest, image: "registry.example.com:5000/web:latest"}
  - {name: untagged, image: nginx}
  - {name: pinned, image: "nginx:1.27"}
  - {name: digest, image: "nginx@sha256:cccc"}
status:
  containerStatuses:
  - {name: latest, image: x, imageID: "registry.example.com:5000/web@sha256:aaaa", containerID: "containerd://1"}
  - {name: untagged, image: x, imageID: "docker.io/library/nginx@sha256:bbbb"}
  - {name: pinned, image: x, imageID: "docker.io/library/nginx@sha256:dddd"}
  - {name: digest, image: x, imageID: "docker.io/library/nginx@sha256:cccc"}
`
	s, err := LoadManifests("fixture", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"latest": "registry.example.com:5000/web@sha256:aaaa", "untagged": "docker.io/library/nginx@sha256:bbbb",
		"pinned": "", "digest": ""}
	for _, st := range s.Pods[0].Status.ContainerStatuses {
		if st.ImageID != want[st.Name] {
			t.Errorf("container %s keeps image ID %q, want %q", st.Name, st.ImageID, want[st.Name])
		}
		if st.ContainerID != "" {
			t.Errorf("container %s keeps its container ID", st.Name)
		}
	}
}

// loadedAndReloaded returns s and s saved and read back, by name: what a
// snapshot keeps must survive the saved format.
func loadedAndReloaded(t *testing.T, s *Snapshot) map[string]*Snapshot {
	t.Helper()
	var saved bytes.Buffer
	if err := Encode(t.Context(), &saved, s); err != nil {
		t.Fatal(err)
	}
	reloaded, err := Decode(&saved)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*Snapshot{"loaded": s, "saved and reloaded": reloaded}
}
