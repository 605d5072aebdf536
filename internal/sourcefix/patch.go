package sourcefix

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// resourcesValue is the resources of one container as a patch or values
// fragment writes them: the new requests and limits, and null for every
// one the container has now and the change drops. Strategic merge, Helm's
// value coalescing and kustomize all merge maps key by key, so without
// the nulls a dropped limit would survive the change.
func resourcesValue(cur, next corev1.ResourceRequirements) map[string]any {
	out := map[string]any{}
	for _, sec := range []struct {
		name      string
		cur, next corev1.ResourceList
	}{{"requests", cur.Requests, next.Requests}, {"limits", cur.Limits, next.Limits}} {
		if len(sec.next) == 0 {
			if len(sec.cur) > 0 {
				out[sec.name] = nil
			}
			continue
		}
		m := map[string]any{}
		for k, v := range sec.next {
			m[string(k)] = v.String()
		}
		for k := range sec.cur {
			if _, ok := sec.next[k]; !ok {
				m[string(k)] = nil
			}
		}
		out[sec.name] = m
	}
	return out
}

// podSpecOf returns the pod template's spec of a workload object, and the
// path of that spec in the object.
func podSpecOf(obj metav1.Object) (*corev1.PodSpec, []string, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template.Spec, []string{"spec", "template", "spec"}, nil
	case *appsv1.StatefulSet:
		return &o.Spec.Template.Spec, []string{"spec", "template", "spec"}, nil
	case *appsv1.DaemonSet:
		return &o.Spec.Template.Spec, []string{"spec", "template", "spec"}, nil
	case *appsv1.ReplicaSet:
		return &o.Spec.Template.Spec, []string{"spec", "template", "spec"}, nil
	case *batchv1.Job:
		return &o.Spec.Template.Spec, []string{"spec", "template", "spec"}, nil
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec.Template.Spec, []string{"spec", "jobTemplate", "spec", "template", "spec"}, nil
	case *corev1.Pod:
		return &o.Spec, []string{"spec"}, nil
	}
	return nil, nil, fmt.Errorf("%T has no pod template", obj)
}

// specPath is podSpecOf's path for a kind, for objects Purser only names.
func specPath(kind string) []string {
	switch kind {
	case "CronJob":
		return []string{"spec", "jobTemplate", "spec", "template", "spec"}
	case "Pod":
		return []string{"spec"}
	}
	return []string{"spec", "template", "spec"}
}

// apiVersionOf is the API version a patch of a workload kind names.
func apiVersionOf(kind string) string {
	switch kind {
	case "Job", "CronJob":
		return "batch/v1"
	case "Pod":
		return "v1"
	}
	return "apps/v1"
}

// findContainer returns the container name names in spec (init or not).
func findContainer(spec *corev1.PodSpec, name string, init bool) (*corev1.Container, bool) {
	cs := spec.Containers
	if init {
		cs = spec.InitContainers
	}
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i], true
		}
	}
	return nil, false
}

// containerEdit is one container's new resources in a patch.
type containerEdit struct {
	Name      string
	Init      bool
	Resources map[string]any
}

// strategicPatch builds the strategic merge patch of a workload's
// containers: the containers list merges by name, so only the named
// containers' resources change. Every container of a list the patch
// touches is named, in spec's order, the unchanged ones by name alone:
// kustomize puts the containers a patch names first, and would otherwise
// reorder them.
func strategicPatch(kind string, spec *corev1.PodSpec, edits []containerEdit) map[string]any {
	list := func(cs []corev1.Container, init bool) []any {
		var out []any
		touched := false
		for _, c := range cs {
			m := map[string]any{"name": c.Name}
			for _, e := range edits {
				if e.Init == init && e.Name == c.Name {
					m["resources"] = e.Resources
					touched = true
				}
			}
			out = append(out, m)
		}
		if !touched {
			return nil
		}
		return out
	}
	containers, inits := list(spec.Containers, false), list(spec.InitContainers, true)
	body := map[string]any{}
	if containers != nil {
		body["containers"] = containers
	}
	if inits != nil {
		body["initContainers"] = inits
	}
	path := specPath(kind)
	var out any = body
	for i := len(path) - 1; i >= 0; i-- {
		out = map[string]any{path[i]: out}
	}
	return out.(map[string]any)
}

// comment returns text as YAML or shell comment lines, one per line of
// text, so that no line break in cluster-supplied text can end the
// comment and start a line of its own.
func comment(text string) string {
	var b strings.Builder
	for _, l := range strings.FieldsFunc(text, func(r rune) bool {
		return r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == 0x85 || r == 0x2028 || r == 0x2029
	}) {
		b.WriteString("# ")
		b.WriteString(strings.Map(func(r rune) rune {
			if r < 0x20 && r != '\t' || r == 0x7f {
				return -1
			}
			return r
		}, l))
		b.WriteByte('\n')
	}
	return b.String()
}

func sortEdits(es []containerEdit) {
	sort.Slice(es, func(i, j int) bool {
		if es[i].Init != es[j].Init {
			return es[i].Init
		}
		return es[i].Name < es[j].Name
	})
}
