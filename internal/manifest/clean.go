// Package manifest turns objects read from a cluster into manifests that
// can be applied again: cleaning strips what the API server and controllers
// set, and names are made safe for file systems. The plan engine and,
// later, an executor use it; it writes nothing (internal/outdir writes the
// trees), so engines may import it.
package manifest

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// serverMetadataFields are set by the API server; a new object must not
// carry them (uid and resourceVersion would be rejected, the others would
// pin the copy to the original).
func serverMetadataFields() []string {
	return []string{"uid", "resourceVersion", "generation", "managedFields", "selfLink", "ownerReferences",
		"finalizers", "deletionTimestamp", "deletionGracePeriodSeconds", "generateName", "creationTimestamp"}
}

// serverAnnotationPrefixes are written by controllers and kubectl; a copy
// carrying them would confuse the controllers of its new namespace (a
// Deployment revision, a claim already bound).
func serverAnnotationPrefixes() []string {
	return []string{
		"kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/", "pv.kubernetes.io/",
		"volume.beta.kubernetes.io/", "volume.kubernetes.io/", "control-plane.alpha.kubernetes.io/",
		"batch.kubernetes.io/job-tracking",
	}
}

// userAnnotations match a server prefix but are set by people: the legacy
// way to choose a claim's storage class, which the class of the volume it
// binds to must still match.
func userAnnotations() []string {
	return []string{"volume.beta.kubernetes.io/storage-class"}
}

// jobControllerLabels are set by the Job controller from the Job's UID; a
// new Job gets its own.
func jobControllerLabels() []string {
	return []string{"controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name"}
}

// Clean returns obj as a manifest ready to apply as a new object: what the
// API server and controllers set (identity, versions, status, allocated
// addresses and ports, the node a pod ran on, the Job controller's
// selector, bookkeeping annotations) is stripped. obj is a typed object or
// an *unstructured.Unstructured and is not modified; apiVersion and kind
// name it, since typed objects read from an API usually carry neither.
func Clean(obj runtime.Object, apiVersion, kind string) (*unstructured.Unstructured, error) {
	if obj == nil {
		return nil, fmt.Errorf("cleaning %s: no object", kind)
	}
	what := kind + " " + objectName(obj)
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil || kind == "" {
		return nil, fmt.Errorf("cleaning %s: %q %q is not an apiVersion and kind", what, apiVersion, kind)
	}
	var m map[string]any
	if x, ok := obj.(*unstructured.Unstructured); ok {
		m = x.DeepCopy().Object
	} else if m, err = runtime.DefaultUnstructuredConverter.ToUnstructured(obj); err != nil {
		return nil, fmt.Errorf("cleaning %s: %w", what, err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	md, _ := m["metadata"].(map[string]any)
	if md == nil {
		return nil, fmt.Errorf("cleaning %s: no metadata", what)
	}
	for _, f := range serverMetadataFields() {
		delete(md, f)
	}
	if a, ok := md["annotations"].(map[string]any); ok {
		for k := range a {
			if isServerAnnotation(k) {
				delete(a, k)
			}
		}
		dropEmpty(md, "annotations")
	}
	delete(m, "status")

	switch gv.WithKind(kind).GroupKind() {
	case schema.GroupKind{Kind: "Service"}:
		cleanService(m)
	case schema.GroupKind{Kind: "Pod"}:
		if spec, ok := m["spec"].(map[string]any); ok {
			delete(spec, "nodeName")
		}
	case schema.GroupKind{Group: "batch", Kind: "Job"}:
		cleanJob(m)
	case schema.GroupKind{Group: "apps", Kind: "StatefulSet"}:
		if spec, ok := m["spec"].(map[string]any); ok {
			for _, c := range asSlice(spec["volumeClaimTemplates"]) {
				if c, ok := c.(map[string]any); ok {
					delete(c, "status")
				}
			}
		}
	}
	pruneNullTimestamps(m)
	return u, nil
}

// objectName is "namespace/name" for error messages, quoted since names
// come from clusters and files nobody vouches for.
func objectName(obj runtime.Object) string {
	o, err := meta.Accessor(obj)
	if err != nil {
		return "(unnamed)"
	}
	if o.GetNamespace() == "" {
		return strconv.Quote(o.GetName())
	}
	return strconv.Quote(o.GetNamespace() + "/" + o.GetName())
}

func isServerAnnotation(k string) bool {
	for _, u := range userAnnotations() {
		if k == u {
			return false
		}
	}
	for _, p := range serverAnnotationPrefixes() {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// cleanService drops the addresses and ports the API server allocated:
// the original keeps them until it is deleted, so a copy asking for the
// same ones would be refused. A headless Service keeps "None", which is a
// choice, not an allocation.
func cleanService(m map[string]any) {
	spec, ok := m["spec"].(map[string]any)
	if !ok {
		return
	}
	if spec["clusterIP"] != "None" {
		delete(spec, "clusterIP")
	}
	if ips := asSlice(spec["clusterIPs"]); !(len(ips) == 1 && ips[0] == "None") {
		delete(spec, "clusterIPs")
	}
	delete(spec, "healthCheckNodePort")
	for _, p := range asSlice(spec["ports"]) {
		if p, ok := p.(map[string]any); ok {
			delete(p, "nodePort")
		}
	}
}

// cleanJob drops the selector and labels the Job controller derives from
// the Job's UID, unless the selector was chosen by hand.
func cleanJob(m map[string]any) {
	spec, ok := m["spec"].(map[string]any)
	if !ok {
		return
	}
	if manual, _ := spec["manualSelector"].(bool); manual {
		return
	}
	delete(spec, "selector")
	metas := []map[string]any{}
	if md, ok := m["metadata"].(map[string]any); ok {
		metas = append(metas, md)
	}
	if tpl, ok := spec["template"].(map[string]any); ok {
		if md, ok := tpl["metadata"].(map[string]any); ok {
			metas = append(metas, md)
		}
	}
	for _, md := range metas {
		if l, ok := md["labels"].(map[string]any); ok {
			for _, k := range jobControllerLabels() {
				delete(l, k)
			}
			dropEmpty(md, "labels")
		}
	}
}

// dropEmpty removes m[key] when it is an empty map, so that a manifest
// does not say "labels: {}" where the original had none.
func dropEmpty(m map[string]any, key string) {
	if x, ok := m[key].(map[string]any); ok && len(x) == 0 {
		delete(m, key)
	}
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// pruneNullTimestamps drops the null creationTimestamp that typed
// templates (pod templates, claim templates) always serialise.
func pruneNullTimestamps(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if k == "creationTimestamp" && c == nil {
				delete(x, k)
				continue
			}
			pruneNullTimestamps(c)
		}
	case []any:
		for _, c := range x {
			pruneNullTimestamps(c)
		}
	}
}
