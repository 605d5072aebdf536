package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/atomicfile"
	"github.com/purserhq/purser/internal/snapshot"
)

// manifest is one object of a target as it will be applied.
type manifest struct {
	apiVersion, kind string
	obj              kobj
	origin           string // source namespace
}

func refOf(o *object) snapshot.Ref { return snapshot.Ref{Kind: o.kind, Namespace: o.ns, Name: o.name} }

// Hash returns the content hash of the plan: sha256 over the canonical
// JSON of its spec (fields in declaration order, map keys sorted).
func (p *Plan) Hash() (string, error) {
	b, err := json.Marshal(p.Spec)
	if err != nil {
		return "", fmt.Errorf("hashing plan: %w", err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// WriteYAML writes the plan file.
func (p *Plan) WriteYAML(w io.Writer) error {
	b, err := yaml.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding plan: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// Read reads a plan file and checks its content hash.
func Read(r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading plan: %w", err)
	}
	var p Plan
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, fmt.Errorf("reading plan: %w", err)
	}
	if p.APIVersion != APIVersion || p.Kind != Kind {
		return nil, fmt.Errorf("reading plan: got %s %s, expected %s %s", p.APIVersion, p.Kind, APIVersion, Kind)
	}
	h, err := p.Hash()
	if err != nil {
		return nil, err
	}
	if h != p.Metadata.ContentHash {
		return nil, fmt.Errorf("reading plan: content hash %s does not match the content (%s): the plan was edited after it was built", p.Metadata.ContentHash, h)
	}
	return &p, nil
}

// serverAnnotationPrefixes are written by controllers and the API server;
// a new object must not carry them.
func serverAnnotationPrefixes() []string {
	return []string{
		"kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/", "pv.kubernetes.io/",
		"volume.beta.kubernetes.io/", "volume.kubernetes.io/", "control-plane.alpha.kubernetes.io/",
	}
}

// jobControllerLabels are set by the Job controller from the Job's UID.
func jobControllerLabels() []string {
	return []string{"controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name"}
}

// clean strips what the server manages and returns the object as a map
// ready to print.
func clean(m manifest) (map[string]any, error) {
	o, _ := m.obj.DeepCopyObject().(kobj)
	o.SetUID("")
	o.SetResourceVersion("")
	o.SetGeneration(0)
	o.SetManagedFields(nil)
	o.SetSelfLink("")
	o.SetOwnerReferences(nil)
	o.SetFinalizers(nil)
	o.SetDeletionTimestamp(nil)
	o.SetGenerateName("")
	if a := o.GetAnnotations(); a != nil {
		for k := range a {
			for _, p := range serverAnnotationPrefixes() {
				if strings.HasPrefix(k, p) {
					delete(a, k)
				}
			}
		}
		if len(a) == 0 {
			a = nil
		}
		o.SetAnnotations(a)
	}
	switch x := o.(type) {
	case *corev1.Service:
		x.Spec.ClusterIP, x.Spec.ClusterIPs, x.Spec.HealthCheckNodePort = "", nil, 0
		for i := range x.Spec.Ports {
			x.Spec.Ports[i].NodePort = 0
		}
	case *corev1.Pod:
		x.Spec.NodeName = ""
	case *batchv1.Job:
		x.Spec.Selector = nil
		for _, l := range jobControllerLabels() {
			delete(x.Spec.Template.Labels, l)
			delete(x.Labels, l)
		}
	case *appsv1.StatefulSet:
		for i := range x.Spec.VolumeClaimTemplates {
			x.Spec.VolumeClaimTemplates[i].Status = corev1.PersistentVolumeClaimStatus{}
		}
	}
	gv, err := schema.ParseGroupVersion(m.apiVersion)
	if err != nil {
		return nil, err
	}
	o.GetObjectKind().SetGroupVersionKind(gv.WithKind(m.kind))
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", m.kind, o.GetName(), err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	delete(out, "status")
	if md, ok := out["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	pruneCreationTimestamps(out)
	return out, nil
}

// pruneCreationTimestamps drops the null creationTimestamp that typed
// templates (pod templates, claim templates) always serialise.
func pruneCreationTimestamps(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if k == "creationTimestamp" && c == nil {
				delete(x, k)
				continue
			}
			pruneCreationTimestamps(c)
		}
	case []any:
		for _, c := range x {
			pruneCreationTimestamps(c)
		}
	}
}

// WriteTree writes the target manifests as a kustomize tree: one
// directory per target with its kustomization.yaml, Namespace and moved
// objects, and a kustomization.yaml at the top listing them. Every file
// is written atomically.
func (p *Plan) WriteTree(dir string) error {
	if p.manifests == nil && len(p.Spec.Targets) > 0 {
		return fmt.Errorf("writing tree: this plan was read from a file; build it from a snapshot to get its manifests")
	}
	var targets []string
	for _, t := range p.Spec.Targets {
		targets = append(targets, t.Name)
		td := filepath.Join(dir, t.Name)
		if err := os.MkdirAll(td, 0o755); err != nil {
			return fmt.Errorf("writing tree: %w", err)
		}
		ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": t.Name}}
		files := []string{"namespace.yaml"}
		if err := writeYAMLFile(filepath.Join(td, "namespace.yaml"), ns); err != nil {
			return err
		}
		for _, m := range p.manifests[t.Name] {
			obj, err := clean(m)
			if err != nil {
				return fmt.Errorf("writing tree for %s: %w", t.Name, err)
			}
			name := fmt.Sprintf("%s-%s.yaml", strings.ToLower(m.kind), m.obj.GetName())
			files = append(files, name)
			if err := writeYAMLFile(filepath.Join(td, name), obj); err != nil {
				return err
			}
		}
		k := map[string]any{"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": files}
		if err := writeKustomization(filepath.Join(td, "kustomization.yaml"), t, k); err != nil {
			return err
		}
	}
	sort.Strings(targets)
	root := map[string]any{"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": targets}
	return writeKustomization(filepath.Join(dir, "kustomization.yaml"), Target{}, root)
}

func writeYAMLFile(path string, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// writeKustomization writes a kustomization with a header saying what is
// not in it: secrets and volume hand-overs are steps, not manifests.
func writeKustomization(path string, t Target, k map[string]any) error {
	b, err := yaml.Marshal(k)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	var h bytes.Buffer
	h.WriteString("# Generated by purser plan. Apply with: kubectl apply --server-side -k <dir>\n")
	if t.Name != "" {
		fmt.Fprintf(&h, "# Target %s, from: %s.\n", t.Name, strings.Join(t.Sources, ", "))
		for _, m := range t.Moves {
			switch m.How {
			case "copy-secret":
				fmt.Fprintf(&h, "# Secret %s/%s is not here (values are never in a plan): copy it first, see the plan's steps.\n", m.From, m.Name)
			case "rebind":
				fmt.Fprintf(&h, "# PersistentVolumeClaim %s/%s binds to its existing volume: release it in %s first, see the plan's steps.\n", m.From, m.Name, m.From)
			}
		}
	}
	h.Write(b)
	return atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(h.Bytes()); return err })
}
