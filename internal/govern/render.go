package govern

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/manifest"
)

// Object is a generated object with its apiVersion and kind.
type Object interface {
	runtime.Object
	GetNamespace() string
	GetName() string
}

// WriteYAML writes objects as one YAML stream for kubectl apply -f -,
// in the order given, without the fields an API server sets.
func WriteYAML(w io.Writer, objs []Object) error {
	for i, o := range objs {
		data, err := encode(o)
		if err != nil {
			return err
		}
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	return nil
}

// Files returns objects as a tree: one file per object under a directory
// per namespace (cluster-scoped objects at the top), in memory; the edge
// writes it.
func Files(objs []Object) ([]manifest.File, error) {
	var out []manifest.File
	for _, o := range objs {
		data, err := encode(o)
		if err != nil {
			return nil, err
		}
		kind := o.GetObjectKind().GroupVersionKind().Kind
		p := manifest.FileName(kind, o.GetName())
		if ns := o.GetNamespace(); ns != "" {
			p = manifest.SafeName(ns) + "/" + p
		}
		out = append(out, manifest.File{Path: p, Data: data})
	}
	return out, nil
}

// WriteJSON writes objects as one v1 List, which kubectl apply -f reads
// as it reads a YAML stream.
func WriteJSON(w io.Writer, objs []Object) error {
	items := make([]any, 0, len(objs))
	for _, o := range objs {
		m, err := clean(o)
		if err != nil {
			return err
		}
		items = append(items, m)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
}

func clean(o Object) (map[string]any, error) {
	gvk := o.GetObjectKind().GroupVersionKind()
	u, err := manifest.Clean(o, gvk.GroupVersion().String(), gvk.Kind)
	if err != nil {
		return nil, err
	}
	return u.Object, nil
}

func encode(o Object) ([]byte, error) {
	gvk := o.GetObjectKind().GroupVersionKind()
	m, err := clean(o)
	if err != nil {
		return nil, err
	}
	data, err := yaml.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s/%s: %w", gvk.Kind, o.GetNamespace(), o.GetName(), err)
	}
	return bytes.Clone(data), nil
}

// NamespaceObjects lists generated namespaces as objects.
func NamespaceObjects(nss []corev1.Namespace) []Object {
	out := make([]Object, 0, len(nss))
	for i := range nss {
		out = append(out, &nss[i])
	}
	return out
}

// Objects lists the generated policies as objects.
func (r *NetworkResult) Objects() []Object {
	out := make([]Object, 0, len(r.Policies))
	for i := range r.Policies {
		out = append(out, &r.Policies[i])
	}
	return out
}

// Objects lists the generated LimitRanges and quotas as objects, each
// namespace's LimitRange before its quota: a quota applied first would
// refuse the pods created in between.
func (r *QuotaResult) Objects() []Object {
	out := make([]Object, 0, len(r.Quotas)+len(r.LimitRanges))
	for i := range r.Quotas {
		for j := range r.LimitRanges {
			if r.LimitRanges[j].Namespace == r.Quotas[i].Namespace {
				out = append(out, &r.LimitRanges[j])
			}
		}
		out = append(out, &r.Quotas[i])
	}
	return out
}
