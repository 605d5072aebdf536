package snapshot

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Emptiness is the answer to "is this namespace empty".
type Emptiness string

const (
	// NotEmpty: the namespace holds at least one object beyond its defaults.
	NotEmpty Emptiness = "not-empty"
	// Empty: every namespaced kind was read and holds nothing but defaults.
	Empty Emptiness = "empty"
	// Unknown: nothing was found, but some kinds could not be read.
	Unknown Emptiness = "unknown"
)

// NamespaceContents counts what a namespace holds beyond the objects
// Kubernetes puts in every namespace.
type NamespaceContents struct {
	Name string
	// Objects counts non-default objects by kind ("Deployment",
	// "widgets.example.com" for kinds Purser does not model).
	Objects map[string]int
	Total   int
	// Unlisted names the namespaced kinds that could not be read.
	Unlisted []string
}

// State tells whether the namespace is empty, not empty, or unknown.
func (c NamespaceContents) State() Emptiness {
	switch {
	case c.Total > 0:
		return NotEmpty
	case len(c.Unlisted) > 0:
		return Unknown
	default:
		return Empty
	}
}

// Kinds returns the kinds present, sorted.
func (c NamespaceContents) Kinds() []string {
	out := make([]string, 0, len(c.Objects))
	for k := range c.Objects {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// IsSystemNamespace reports whether a namespace belongs to Kubernetes itself.
// Such namespaces are never reported empty and never moved or deleted.
func IsSystemNamespace(name string) bool {
	switch name {
	case "default", "kube-system", "kube-public", "kube-node-lease":
		return true
	}
	return false
}

// IsDefaultObject reports whether an object is one Kubernetes creates in
// every namespace: the default ServiceAccount (and its legacy token Secret)
// and the kube-root-ca.crt ConfigMap.
func IsDefaultObject(kind string, o metav1.Object) bool {
	switch kind {
	case "ServiceAccount":
		return o.GetName() == "default"
	case "ConfigMap":
		return o.GetName() == "kube-root-ca.crt"
	case "Secret":
		if s, ok := o.(*corev1.Secret); ok && s.Type == corev1.SecretTypeServiceAccountToken {
			return s.Annotations[corev1.ServiceAccountNameKey] == "default"
		}
	}
	return false
}

// NamespaceContents returns what ns holds.
func (ix *Index) NamespaceContents(ns string) NamespaceContents {
	ix.contentsOnce.Do(ix.buildContents)
	if c, ok := ix.contents[ns]; ok {
		return c
	}
	return NamespaceContents{Name: ns, Objects: map[string]int{}, Unlisted: ix.unlisted}
}

func (ix *Index) buildContents() {
	ix.contents = make(map[string]NamespaceContents, len(ix.S.Namespaces))
	for _, k := range ix.S.UnlistedKinds() {
		ix.unlisted = append(ix.unlisted, k.GroupResource())
	}
	get := func(ns string) NamespaceContents {
		c, ok := ix.contents[ns]
		if !ok {
			c = NamespaceContents{Name: ns, Objects: map[string]int{}, Unlisted: ix.unlisted}
		}
		return c
	}
	for _, n := range ix.S.Namespaces {
		ix.contents[n.Name] = get(n.Name)
	}
	for _, k := range kinds() {
		if !k.Namespaced || IsDerived(k.GVR.Group, k.GVR.Resource) || k.GVR.Resource == "endpointslices" {
			continue
		}
		k.each(ix.S, func(o metav1.Object) {
			if IsDefaultObject(k.Kind, o) {
				return
			}
			c := get(o.GetNamespace())
			c.Objects[k.Kind]++
			c.Total++
			ix.contents[o.GetNamespace()] = c
		})
	}
	for _, o := range ix.S.Others {
		if o.Namespace == "" {
			continue // cluster-scoped: in no namespace
		}
		c := get(o.Namespace)
		name := o.Kind
		if o.Group != "" {
			name = o.Kind + "." + o.Group
		}
		c.Objects[name]++
		c.Total++
		ix.contents[o.Namespace] = c
	}
}

// EmptyNamespaces returns the names of empty namespaces, system namespaces
// excluded, sorted.
func (ix *Index) EmptyNamespaces() []string {
	var out []string
	for _, n := range ix.S.Namespaces {
		if IsSystemNamespace(n.Name) {
			continue
		}
		if ix.NamespaceContents(n.Name).State() == Empty {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	return out
}
