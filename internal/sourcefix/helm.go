package sourcefix

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// Renderer renders a chart as `helm template` does. Values are values
// files' contents, later ones over earlier ones.
type Renderer interface {
	Template(ctx context.Context, release, namespace, chart string, values [][]byte) ([]byte, error)
}

// HelmCLI renders with a helm binary (the project builds one with `make
// helm`; helm's Go module is not a dependency of Purser).
type HelmCLI struct {
	Path string
}

// Template runs `helm template` with its caches and configuration in a
// temporary directory, so that nothing from or into the user's helm
// setup changes the result.
func (h HelmCLI) Template(ctx context.Context, release, namespace, chart string, values [][]byte) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "purser-helm-")
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", chart, err)
	}
	defer os.RemoveAll(tmp)
	args := []string{"template", release, chart, "--namespace", namespace}
	for i, v := range values {
		f := filepath.Join(tmp, fmt.Sprintf("values-%d.yaml", i))
		if err := os.WriteFile(f, v, 0o600); err != nil {
			return nil, fmt.Errorf("rendering chart %s: %w", chart, err)
		}
		args = append(args, "--values", f)
	}
	cmd := exec.CommandContext(ctx, h.Path, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(tmp, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(tmp, "config"),
		"HELM_DATA_HOME="+filepath.Join(tmp, "data"))
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm template %s: %w: %s", chart, err, strings.TrimSpace(stderr.String()))
	}
	return out.Bytes(), nil
}

// keyPathSearch is what findKeyPaths needs of a release.
type keyPathSearch struct {
	Release, Namespace, Chart string
	// Values are the release's own values files, already read.
	Values [][]byte
	// Targets are the containers whose key paths are looked for.
	Targets []helmTarget
}

type helmTarget struct {
	Kind, Name, Container string
	Init                  bool
}

// keyPath is the values key that feeds one container's resources.
type keyPath []string

func (k keyPath) String() string { return strings.Join(k, ".") }

// candidateKeys lists the values keys that may hold a container's
// resources: every map key named resources (its value a map or empty) and
// every map with requests or limits children. They are not searched
// below: a resources map holds no other container's.
func candidateKeys(values map[string]any) []keyPath {
	var out []keyPath
	var walk func(m map[string]any, prefix keyPath)
	walk = func(m map[string]any, prefix keyPath) {
		for _, k := range sortedKeys(m) {
			p := append(append(keyPath{}, prefix...), k)
			sub, isMap := m[k].(map[string]any)
			if k == "resources" && (isMap || m[k] == nil) {
				out = append(out, p)
				continue
			}
			if !isMap {
				continue
			}
			if _, ok := sub["requests"]; ok {
				out = append(out, p)
				continue
			}
			if _, ok := sub["limits"]; ok {
				out = append(out, p)
				continue
			}
			walk(sub, p)
		}
	}
	walk(values, nil)
	return out
}

// sentinel is the resources written at candidate i: four quantities no
// chart sets, distinct for every candidate and field, so that any one of
// them found in a rendered container names the key it came from.
func sentinel(i int) map[string]any {
	base := 7_300_000 + 10*i
	return map[string]any{
		"requests": map[string]any{"cpu": fmt.Sprintf("%dm", base+1), "memory": fmt.Sprintf("%dKi", base+2)},
		"limits":   map[string]any{"cpu": fmt.Sprintf("%dm", base+3), "memory": fmt.Sprintf("%dKi", base+4)},
	}
}

// setPath sets v at path in m, creating maps on the way.
func setPath(m map[string]any, path keyPath, v any) {
	for _, k := range path[:len(path)-1] {
		sub, ok := m[k].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[k] = sub
		}
		m = sub
	}
	m[path[len(path)-1]] = v
}

// chartValues reads the chart's values.yaml and the release's values over
// it (maps merged, as Helm does), for the candidate keys.
func chartValues(chart string, user [][]byte) (map[string]any, error) {
	if _, err := os.Stat(filepath.Join(chart, "Chart.yaml")); err != nil {
		return nil, fmt.Errorf("chart %s: not a chart directory: %w", chart, err)
	}
	out := map[string]any{}
	data, err := os.ReadFile(filepath.Join(chart, "values.yaml"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading chart %s: %w", chart, err)
	}
	for i, d := range append([][]byte{data}, user...) {
		var m map[string]any
		if err := yaml.Unmarshal(d, &m); err != nil {
			if i == 0 {
				return nil, fmt.Errorf("reading %s: %w", filepath.Join(chart, "values.yaml"), err)
			}
			return nil, fmt.Errorf("reading the release's values file %d: %w", i, err)
		}
		mergeValues(out, m)
	}
	return out, nil
}

func mergeValues(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// parseRender splits a render into objects.
func parseRender(data []byte) ([]*unstructured.Unstructured, error) {
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("reading the render: %w", err)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// typedWorkload converts a rendered workload to its type, for its pod spec.
func typedWorkload(u *unstructured.Unstructured) (metav1.Object, error) {
	var obj metav1.Object
	switch u.GetKind() {
	case "Deployment":
		obj = &appsv1.Deployment{}
	case "StatefulSet":
		obj = &appsv1.StatefulSet{}
	case "DaemonSet":
		obj = &appsv1.DaemonSet{}
	case "ReplicaSet":
		obj = &appsv1.ReplicaSet{}
	case "Job":
		obj = &batchv1.Job{}
	case "CronJob":
		obj = &batchv1.CronJob{}
	case "Pod":
		obj = &corev1.Pod{}
	default:
		return nil, fmt.Errorf("kind %s has no pod template", u.GetKind())
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
		return nil, fmt.Errorf("reading rendered %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return obj, nil
}

// renderedContainer finds a target's container in a render.
func renderedContainer(objs []*unstructured.Unstructured, t helmTarget) (*corev1.Container, error) {
	for _, u := range objs {
		if u.GetKind() != t.Kind || u.GetName() != t.Name {
			continue
		}
		obj, err := typedWorkload(u)
		if err != nil {
			return nil, err
		}
		spec, _, err := podSpecOf(obj)
		if err != nil {
			return nil, err
		}
		c, ok := findContainer(spec, t.Container, t.Init)
		if !ok {
			return nil, fmt.Errorf("the chart renders %s %s without a container %q", t.Kind, t.Name, t.Container)
		}
		return c, nil
	}
	return nil, fmt.Errorf("the chart renders no %s %s (is the release name right, and are the release's values given?)", t.Kind, t.Name)
}

// findKeyPaths renders the chart once with a sentinel at every candidate
// key and reads, in each target container, which sentinel landed there.
// A target it cannot place gets an error saying why.
func findKeyPaths(ctx context.Context, r Renderer, s keyPathSearch) (map[helmTarget]keyPath, map[helmTarget]error, error) {
	values, err := chartValues(s.Chart, s.Values)
	if err != nil {
		return nil, nil, err
	}
	cands := candidateKeys(values)
	if len(cands) == 0 {
		return nil, nil, fmt.Errorf("chart %s: no values key looks like resources (a map named resources, or with requests or limits)", s.Chart)
	}
	over := map[string]any{}
	owner := map[string]int{} // a sentinel quantity, canonical -> candidate
	for i, p := range cands {
		sv := sentinel(i)
		setPath(over, p, sv)
		for _, sec := range sv {
			for _, q := range sec.(map[string]any) {
				sq := resource.MustParse(q.(string))
				owner[sq.String()] = i
			}
		}
	}
	sdata, err := sigsyaml.Marshal(over)
	if err != nil {
		return nil, nil, fmt.Errorf("chart %s: %w", s.Chart, err)
	}
	out, err := r.Template(ctx, s.Release, s.Namespace, s.Chart, append(append([][]byte{}, s.Values...), sdata))
	if err != nil {
		return nil, nil, fmt.Errorf("rendering chart %s with a marker at each of %d candidate keys: %w", s.Chart, len(cands), err)
	}
	objs, err := parseRender(out)
	if err != nil {
		return nil, nil, fmt.Errorf("chart %s: %w", s.Chart, err)
	}
	found := map[helmTarget]keyPath{}
	failed := map[helmTarget]error{}
	for _, t := range s.Targets {
		c, err := renderedContainer(objs, t)
		if err != nil {
			failed[t] = err
			continue
		}
		hits := map[int]bool{}
		for _, l := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
			for _, q := range l {
				if i, ok := owner[q.String()]; ok {
					hits[i] = true
				}
			}
		}
		switch len(hits) {
		case 0:
			failed[t] = fmt.Errorf("none of the %d candidate keys (%s) reaches container %q: its resources are fixed in the templates or come from a key of another shape", len(cands), joinPaths(cands), t.Container)
		case 1:
			for i := range hits {
				found[t] = cands[i]
			}
		default:
			var ps []keyPath
			for i := range hits {
				ps = append(ps, cands[i])
			}
			sort.Slice(ps, func(a, b int) bool { return ps[a].String() < ps[b].String() })
			failed[t] = fmt.Errorf("container %q takes its resources from several keys (%s)", t.Container, joinPaths(ps))
		}
	}
	return found, failed, nil
}

func joinPaths(ps []keyPath) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// renderDiff compares two renders of a chart object by object and
// returns what differs other than the resources of the given containers,
// one line each; nil when nothing else differs.
func renderDiff(before, after []*unstructured.Unstructured, skip []helmTarget) []string {
	type id struct{ kind, ns, name string }
	key := func(u *unstructured.Unstructured) id { return id{u.GetKind(), u.GetNamespace(), u.GetName()} }
	strip := func(u *unstructured.Unstructured) map[string]any {
		c := u.DeepCopy()
		for _, t := range skip {
			if c.GetKind() != t.Kind || c.GetName() != t.Name {
				continue
			}
			field := "containers"
			if t.Init {
				field = "initContainers"
			}
			path := append(specPath(t.Kind), field)
			cs, ok, _ := unstructured.NestedSlice(c.Object, path...)
			if !ok {
				continue
			}
			for _, ci := range cs {
				if m, ok := ci.(map[string]any); ok && m["name"] == t.Container {
					delete(m, "resources")
				}
			}
			_ = unstructured.SetNestedSlice(c.Object, cs, path...)
		}
		return c.Object
	}
	b := map[id]map[string]any{}
	for _, u := range before {
		b[key(u)] = strip(u)
	}
	var diffs []string
	seen := map[id]bool{}
	for _, u := range after {
		k := key(u)
		seen[k] = true
		old, ok := b[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s %s appears", k.kind, k.name))
		case !reflect.DeepEqual(old, strip(u)):
			diffs = append(diffs, fmt.Sprintf("%s %s changes beyond the containers' resources", k.kind, k.name))
		}
	}
	for k := range b {
		if !seen[k] {
			diffs = append(diffs, fmt.Sprintf("%s %s disappears", k.kind, k.name))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// matchKeyPaths places each target without a chart: the release's
// manifest (helm get manifest) shows the container's resources, and the
// one values key (of the release's values, helm get values --all) that
// holds exactly those resources is taken to feed it. It cannot tell two
// keys holding the same resources apart, nor place a container without
// resources: those get an error saying so.
func matchKeyPaths(manifest []*unstructured.Unstructured, user [][]byte, targets []helmTarget) (map[helmTarget]keyPath, map[helmTarget]error, error) {
	if len(user) == 0 {
		return nil, nil, errors.New("a manifest alone does not show which values key feeds a container: give the release's values too (helm get values --all)")
	}
	values := map[string]any{}
	for i, d := range user {
		var m map[string]any
		if err := yaml.Unmarshal(d, &m); err != nil {
			return nil, nil, fmt.Errorf("reading the release's values file %d: %w", i+1, err)
		}
		mergeValues(values, m)
	}
	type cand struct {
		path keyPath
		res  corev1.ResourceRequirements
	}
	var cands []cand
	for _, p := range candidateKeys(values) {
		v := values
		for _, k := range p[:len(p)-1] {
			v, _ = v[k].(map[string]any)
		}
		raw, err := sigsyaml.Marshal(v[p[len(p)-1]])
		if err != nil {
			continue
		}
		var r corev1.ResourceRequirements
		// A key whose value is no resources (a map of other things) is
		// no candidate.
		if err := sigsyaml.UnmarshalStrict(raw, &r); err != nil {
			continue
		}
		cands = append(cands, cand{p, r})
	}
	found := map[helmTarget]keyPath{}
	failed := map[helmTarget]error{}
	for _, t := range targets {
		c, err := renderedContainer(manifest, t)
		if err != nil {
			failed[t] = fmt.Errorf("%s", strings.Replace(err.Error(), "the chart renders", "the release's manifest has", 1))
			continue
		}
		if len(c.Resources.Requests) == 0 && len(c.Resources.Limits) == 0 {
			failed[t] = fmt.Errorf("container %q has no resources in the manifest, so no values key can be matched to it: name the chart in purser.yaml sources.helm", t.Container)
			continue
		}
		var hits []keyPath
		for _, k := range cands {
			if sameResources(k.res, c.Resources) {
				hits = append(hits, k.path)
			}
		}
		switch len(hits) {
		case 1:
			found[t] = hits[0]
		case 0:
			failed[t] = fmt.Errorf("no values key holds container %q's resources as the manifest shows them", t.Container)
		default:
			failed[t] = fmt.Errorf("values keys %s all hold container %q's resources: name the chart in purser.yaml sources.helm to tell them apart", joinPaths(hits), t.Container)
		}
	}
	return found, failed, nil
}
