// Package sourcefix writes a change to a container's resources where the
// workload comes from: a Helm release's values (at the values key that
// feeds the container, found by rendering the chart), a kustomize overlay
// (a strategic-merge patch and its kustomization entry), the Git source a
// GitOps controller syncs, or, when nothing owns the workload, a kubectl
// patch (for a bare Pod, an in-place resize where the cluster has it).
//
// Detect finds the owner from the snapshot and the sources section of
// purser.yaml; Build turns changes into fixes and the files that carry
// them, in memory; Write writes those files into a directory, all or
// nothing.
package sourcefix

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/version"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/manifest"
	"github.com/purserhq/purser/internal/outdir"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

// Change is a container's complete new resources.
type Change struct {
	// The workload: Deployment, StatefulSet, DaemonSet, CronJob, Job,
	// ReplicaSet, or a Pod (a controlled one stands for its controller).
	Namespace, Kind, Name string
	Container             string
	Init                  bool
	// Resources are the complete new requests and limits of the
	// container: one it has now and Resources lacks is removed.
	Resources corev1.ResourceRequirements
	// Reason is one line, written as a comment where the format allows.
	Reason string
}

func (c Change) ref() snapshot.Ref {
	return snapshot.Ref{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name}
}

// Method is how a fix is carried out.
type Method string

// Methods.
const (
	// MethodHelmValues: a values fragment for the release (helm upgrade,
	// or the values a GitOps controller renders the chart with).
	MethodHelmValues Method = "helm-values"
	// MethodKustomize: a patch and its entry for the overlay.
	MethodKustomize Method = "kustomize-patch"
	// MethodGitSource: the change belongs in the Git source a GitOps
	// controller syncs; the patch is written for it, and the kubectl
	// command is only manual (the controller reverts it).
	MethodGitSource Method = "git-source"
	// MethodKubectlPatch: a strategic-merge kubectl patch.
	MethodKubectlPatch Method = "kubectl-patch"
	// MethodResize: kubectl patch of a Pod's resize subresource.
	MethodResize Method = "resize"
	// MethodRecreate: the object cannot change in place (a bare Pod
	// without in-place resize, a Job): it must be recreated.
	MethodRecreate Method = "recreate"
)

// Fix is the change to one workload, where it is to be made.
type Fix struct {
	Owner   Owner    `json:"owner"`
	Changes []Change `json:"changes"`
	Method  Method   `json:"method"`
	// KeyPaths are the Helm values keys of the changed containers, by
	// container name (MethodHelmValues).
	KeyPaths map[string]string `json:"keyPaths,omitempty"`
	// Files are the files carrying the fix, relative to the directory
	// Write writes into.
	Files []string `json:"files,omitempty"`
	// Command carries the fix out, run from that directory; "" when it
	// is a file to commit or an object to recreate.
	Command string `json:"command,omitempty"`
	// Manual is a command that changes the cluster now but that the
	// GitOps controller named in Notes reverts: never run by Purser.
	Manual string `json:"manual,omitempty"`
	// Notes say why this method, what was not possible and what to do.
	Notes []string `json:"notes,omitempty"`
}

// Result is every fix and the files that carry them.
type Result struct {
	Fixes []Fix
	// Files are the tree Write writes, commands.sh among them.
	Files []manifest.File
}

// Options are what Build may use beyond the snapshot.
type Options struct {
	// Sources is purser.yaml's sources section, paths resolved.
	Sources Config
	// Helm renders charts to find values key paths; nil: no search, and
	// Helm-managed workloads get a kubectl patch with a note.
	Helm Renderer
}

// CommandsFile is the script of every command, in the order of Fixes.
const CommandsFile = "commands.sh"

// group is the changes to one workload.
type group struct {
	top     snapshot.Ref
	owner   Owner
	spec    *corev1.PodSpec
	changes []Change
}

// Build finds the owner of every change's workload and builds its fix.
// It reads the charts, values files and overlays Options.Sources names,
// and renders charts through Options.Helm; it writes nothing. A change to
// a workload or container the snapshot does not hold is an error naming it.
func Build(ctx context.Context, ix *snapshot.Index, changes []Change, opts Options) (*Result, error) {
	groups, err := groupChanges(ix, changes, opts.Sources)
	if err != nil {
		return nil, err
	}
	b := &builder{ix: ix, opts: opts, files: map[string][]byte{}}
	fixes := make([]*Fix, len(groups))
	helmByRelease := map[string][]int{}
	for i, g := range groups {
		fixes[i] = &Fix{Owner: g.owner, Changes: g.changes}
		if h := g.owner.Helm; h != nil && h.Name != "" && (g.owner.Source == SourceHelm || g.owner.Source == SourceArgoCD || g.owner.Source == SourceFlux) {
			key := h.Namespace + "/" + h.Name
			if src, ok := opts.Sources.Helm[key]; ok && (opts.Helm != nil && src.Chart != "" || src.Manifest != "") {
				helmByRelease[key] = append(helmByRelease[key], i)
				continue
			}
		}
		if err := b.direct(g, fixes[i]); err != nil {
			return nil, err
		}
	}
	for _, key := range sortedKeys(helmByRelease) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		idx := helmByRelease[key]
		var gs []*group
		var fs []*Fix
		for _, i := range idx {
			gs, fs = append(gs, &groups[i]), append(fs, fixes[i])
		}
		if err := b.helm(ctx, key, gs, fs); err != nil {
			return nil, err
		}
	}
	res := &Result{}
	for _, f := range fixes {
		res.Fixes = append(res.Fixes, *f)
	}
	for _, p := range sortedKeys(b.files) {
		res.Files = append(res.Files, manifest.File{Path: p, Data: b.files[p]})
	}
	res.Files = append(res.Files, manifest.File{Path: CommandsFile, Data: commandsScript(res.Fixes)})
	return res, nil
}

// Write writes the fixes' files into dir, which must not exist, be empty
// or hold fixes Write wrote before (replaced as a whole): a directory of
// the user's is never written into. Nothing is left half-written: on an
// error dir is as it was.
func Write(ctx context.Context, dir string, r *Result) error {
	if err := outdir.WriteTree(ctx, dir, r.Files); err != nil {
		return fmt.Errorf("writing fixes: %w", err)
	}
	return nil
}

func groupChanges(ix *snapshot.Index, changes []Change, cfg Config) ([]group, error) {
	byTop := map[snapshot.Ref]*group{}
	var order []snapshot.Ref
	seen := map[string]bool{}
	for _, c := range changes {
		if !isWorkloadKind(c.Kind) {
			return nil, fmt.Errorf("change to %s/%s/%s: kind %q is not a workload", c.Namespace, c.Kind, c.Name, c.Kind)
		}
		if ix.Object(c.ref()) == nil {
			return nil, fmt.Errorf("change to %s: not in the snapshot", c.ref())
		}
		top := ix.Workload(c.ref())
		obj := ix.Object(top)
		if obj == nil {
			// The controller is a kind Purser does not model (an
			// operator's resource): the change is to that, not here.
			return nil, fmt.Errorf("change to %s: its controller %s is not a workload Purser can change", c.ref(), top)
		}
		spec, _, err := podSpecOf(obj)
		if err != nil {
			return nil, fmt.Errorf("change to %s: %w", top, err)
		}
		if _, ok := findContainer(spec, c.Container, c.Init); !ok {
			return nil, fmt.Errorf("change to %s: no %s %q", top, containerWord(c.Init), c.Container)
		}
		k := fmt.Sprintf("%s\x00%t\x00%s", top, c.Init, c.Container)
		if seen[k] {
			return nil, fmt.Errorf("change to %s: %s %q is changed twice", top, containerWord(c.Init), c.Container)
		}
		seen[k] = true
		g, ok := byTop[top]
		if !ok {
			g = &group{top: top, owner: Detect(ix, cfg, c.ref()), spec: spec}
			byTop[top] = g
			order = append(order, top)
		}
		g.changes = append(g.changes, c)
	}
	sort.Slice(order, func(i, j int) bool { return order[i].String() < order[j].String() })
	out := make([]group, len(order))
	for i, r := range order {
		out[i] = *byTop[r]
	}
	return out, nil
}

func containerWord(init bool) string {
	if init {
		return "init container"
	}
	return "container"
}

type builder struct {
	ix    *snapshot.Index
	opts  Options
	files map[string][]byte
}

func (b *builder) add(p string, data []byte) { b.files[p] = data }

// edits are a group's containers' resources as a patch writes them,
// against the containers' current resources.
func (g *group) edits() []containerEdit {
	var es []containerEdit
	for _, c := range g.changes {
		cur, _ := findContainer(g.spec, c.Container, c.Init)
		es = append(es, containerEdit{Name: c.Container, Init: c.Init, Resources: resourcesValue(cur.Resources, c.Resources)})
	}
	sortEdits(es)
	return es
}

// reasons are the changes' reasons as comment text, one line each.
func (g *group) reasons() string {
	var lines []string
	for _, c := range g.changes {
		line := fmt.Sprintf("%s %q %s %q", g.top.Kind, g.top.Namespace+"/"+g.top.Name, containerWord(c.Init), c.Container)
		if c.Reason != "" {
			line += ": " + flatten(c.Reason)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// flatten puts text on one line.
func flatten(s string) string { return strings.Join(strings.Fields(s), " ") }

// patchYAML is a workload's patch as a file: a comment per change, then
// the patch. A patch for kustomize names its object (apiVersion, kind and
// name, as kustomize finds its target); one for kubectl patch holds the
// change alone, as kubectl names the object on its command line.
func patchYAML(kind, name string, g *group, named bool) ([]byte, error) {
	p := strategicPatch(kind, g.spec, g.edits())
	if named {
		p["apiVersion"] = apiVersionOf(kind)
		p["kind"] = kind
		p["metadata"] = map[string]any{"name": name}
	}
	data, err := sigsyaml.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("patch of %s: %w", g.top, err)
	}
	return append([]byte(comment(g.reasons())), data...), nil
}

// workloadDir is a workload's directory in the tree.
func workloadDir(section string, r snapshot.Ref) string {
	return section + "/" + manifest.SafeName(r.Namespace) + "/" + strings.TrimSuffix(manifest.FileName(r.Kind, r.Name), ".yaml")
}

// direct builds every fix that needs no chart: kustomize, the Git source,
// kubectl.
func (b *builder) direct(g group, f *Fix) error {
	switch g.owner.Source {
	case SourceKustomize:
		return b.kustomize(&g, f)
	case SourceArgoCD, SourceFlux:
		return b.gitSource(&g, f)
	case SourceHelm:
		why := "no chart is configured for the release (purser.yaml sources.helm): the values key path is unknown"
		if _, ok := b.opts.Sources.Helm[g.owner.Helm.Namespace+"/"+g.owner.Helm.Name]; ok {
			why = "no helm binary to render the chart with: the values key path is unknown"
		}
		if g.owner.Helm.Name == "" {
			why = "the release name is unknown (no " + annHelmRelease + " annotation or " + labelInstance + " label)"
		}
		return b.helmFallback(&g, f, why)
	}
	return b.kubectl(&g, f)
}

func (b *builder) kustomize(g *group, f *Fix) error {
	f.Method = MethodKustomize
	name := g.top.Name
	if n, err := overlayName(g.owner.Overlay, g.top.Kind, g.top.Namespace, g.top.Name); err != nil {
		f.Notes = append(f.Notes, fmt.Sprintf("the patch names the object as the cluster does (%s): %v", g.top.Name, err))
	} else if n != name {
		name = n
		f.Notes = append(f.Notes, fmt.Sprintf("the patch names the object %s, its name in the overlay before namePrefix/nameSuffix", n))
	}
	data, err := patchYAML(g.top.Kind, name, g, true)
	if err != nil {
		return err
	}
	dir := workloadDir("kustomize", g.top)
	patchName := "purser-" + manifest.FileName(g.top.Kind, name)
	edit, err := sigsyaml.Marshal(map[string]any{"patches": []any{map[string]any{"path": patchName}}})
	if err != nil {
		return fmt.Errorf("kustomization entry of %s: %w", g.top, err)
	}
	b.add(dir+"/patch.yaml", data)
	b.add(dir+"/kustomization-entry.yaml", append([]byte(comment("Add to the patches of "+g.owner.Overlay+"/kustomization.yaml,\nwith patch.yaml copied into the overlay as "+patchName+".")), edit...))
	f.Files = []string{dir + "/patch.yaml", dir + "/kustomization-entry.yaml"}
	f.Notes = append(f.Notes, fmt.Sprintf("copy %s/patch.yaml into %s as %s and add it to the overlay's patches (%s/kustomization-entry.yaml)", dir, g.owner.Overlay, patchName, dir))
	if g.owner.Manager != "" {
		f.Notes = append(f.Notes, "commit the overlay: "+g.owner.Manager+" syncs the workload and reverts changes made in the cluster")
	}
	return nil
}

// gitSource is a GitOps-managed workload whose source Purser does not
// know: the patch is written for the Git source, and a kubectl command
// only as manual.
func (b *builder) gitSource(g *group, f *Fix) error {
	f.Method = MethodGitSource
	data, err := patchYAML(g.top.Kind, g.top.Name, g, true)
	if err != nil {
		return err
	}
	manual, err := json.Marshal(strategicPatch(g.top.Kind, g.spec, g.edits()))
	if err != nil {
		return fmt.Errorf("patch of %s: %w", g.top, err)
	}
	dir := workloadDir("git", g.top)
	b.add(dir+"/patch.yaml", data)
	f.Files = []string{dir + "/patch.yaml"}
	f.Manual = shell.Join("kubectl", "patch", strings.ToLower(g.top.Kind), g.top.Name, "--namespace", g.top.Namespace, "--type", "strategic", "--patch", string(manual))
	f.Notes = append(f.Notes,
		fmt.Sprintf("%s syncs %s: change it in the Git path that manager's spec names (the snapshot does not hold it); %s/patch.yaml is the change as a strategic-merge patch", g.owner.Manager, g.top, dir),
		"name the overlay in purser.yaml sources.kustomize (or the chart in sources.helm) to get the fix written for it",
		"the manual command is reverted by "+g.owner.Manager+" at its next sync")
	return nil
}

// helmFallback is a Helm-managed workload whose values key is unknown: a
// kubectl patch, which the release's next upgrade undoes.
func (b *builder) helmFallback(g *group, f *Fix, why string) error {
	if err := b.kubectl(g, f); err != nil {
		return err
	}
	f.Notes = append([]string{why + "; a kubectl patch instead, which the release's next helm upgrade undoes unless its values change too " +
		"(Helm keeps the release's values in its sh.helm.release.v1 Secrets, whose payload a snapshot never holds)"}, f.Notes...)
	return nil
}

func kubectlPatch(r snapshot.Ref, file string, resize bool) string {
	args := []string{"kubectl", "patch", strings.ToLower(r.Kind), r.Name, "--namespace", r.Namespace}
	if resize {
		args = append(args, "--subresource", "resize")
	}
	return shell.Join(append(args, "--type", "strategic", "--patch-file", file)...)
}

// kubectl is the fix of a workload nothing owns.
func (b *builder) kubectl(g *group, f *Fix) error {
	data, err := patchYAML(g.top.Kind, g.top.Name, g, false)
	if err != nil {
		return err
	}
	dir := workloadDir("kubectl", g.top)
	b.add(dir+"/patch.yaml", data)
	f.Files = []string{dir + "/patch.yaml"}
	switch g.top.Kind {
	case "Pod":
		ok, why := b.resizable(g)
		if ok {
			f.Method = MethodResize
			f.Command = kubectlPatch(g.top, dir+"/patch.yaml", true)
			f.Notes = append(f.Notes, "resized in place through the Pod's resize subresource: the Pod is not restarted")
			return nil
		}
		f.Method = MethodRecreate
		f.Notes = append(f.Notes, "the Pod has no controller and cannot be resized in place ("+why+"): recreate it with these resources")
	case "Job":
		f.Method = MethodRecreate
		f.Notes = append(f.Notes, "a Job's pod template cannot change: recreate the Job with these resources, or change what creates it")
	default:
		f.Method = MethodKubectlPatch
		f.Command = kubectlPatch(g.top, dir+"/patch.yaml", false)
		if g.top.Kind == "ReplicaSet" {
			f.Notes = append(f.Notes, "a ReplicaSet applies its template to new Pods only: delete its Pods one at a time to replace them")
		}
	}
	return nil
}

// resizable tells whether a bare Pod's change can be made in place: the
// resize subresource (Kubernetes 1.33 and later), CPU and memory only, no
// init container and no change of QoS class (the API server refuses both).
func (b *builder) resizable(g *group) (bool, string) {
	sv := b.ix.S.Meta.ServerVersion
	if sv == "" {
		return false, "the API server's version is unknown, and in-place resize needs 1.33 or later"
	}
	v, err := version.ParseGeneric(sv)
	if err != nil {
		return false, fmt.Sprintf("the API server's version %q does not parse", sv)
	}
	if v.LessThan(version.MajorMinor(1, 33)) {
		return false, "the API server is " + sv + "; in-place resize needs 1.33 or later"
	}
	after := g.spec.DeepCopy()
	for _, c := range g.changes {
		if c.Init {
			return false, fmt.Sprintf("init container %q", c.Container)
		}
		cur, _ := findContainer(after, c.Container, false)
		for _, sec := range [][2]corev1.ResourceList{{cur.Resources.Requests, c.Resources.Requests}, {cur.Resources.Limits, c.Resources.Limits}} {
			for name := range union(sec[0], sec[1]) {
				if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
					continue
				}
				if !quantityEqual(sec[0], sec[1], name) {
					return false, fmt.Sprintf("container %q changes %s, and only cpu and memory resize", c.Container, name)
				}
			}
		}
		cur.Resources = c.Resources
	}
	if before, now := qosClass(g.spec), qosClass(after); before != now {
		return false, fmt.Sprintf("the QoS class would change from %s to %s", before, now)
	}
	return true, ""
}

func union(a, b corev1.ResourceList) map[corev1.ResourceName]bool {
	out := map[corev1.ResourceName]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func quantityEqual(a, b corev1.ResourceList, name corev1.ResourceName) bool {
	qa, oka := a[name]
	qb, okb := b[name]
	return oka == okb && (!oka || qa.Cmp(qb) == 0)
}

// qosClass is the Pod's QoS class as the kubelet computes it from cpu
// and memory: Guaranteed when every container limits both and requests
// what it limits (an unset request defaults to the limit), BestEffort
// when none asks anything, else Burstable.
func qosClass(spec *corev1.PodSpec) corev1.PodQOSClass {
	asks, guaranteed := false, true
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		for _, n := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[n]
			lim, hasLim := c.Resources.Limits[n]
			if hasReq && !req.IsZero() || hasLim && !lim.IsZero() {
				asks = true
			}
			if !hasLim || hasReq && req.Cmp(lim) != 0 {
				guaranteed = false
			}
		}
	}
	switch {
	case !asks:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// helm builds the fixes of one release's workloads from its chart: the
// key path of every container, one values fragment for all of them,
// checked by rendering the chart with it. A workload whose containers
// cannot all be placed falls back, with the reason.
func (b *builder) helm(ctx context.Context, key string, gs []*group, fs []*Fix) error {
	src := b.opts.Sources.Helm[key]
	h := gs[0].owner.Helm
	var user [][]byte
	for _, p := range src.Values {
		d, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("release %s: reading values: %w", key, err)
		}
		user = append(user, d)
	}
	fallback := func(i int, why string) error {
		if gs[i].owner.Source == SourceHelm {
			return b.helmFallback(gs[i], fs[i], why)
		}
		fs[i].Notes = append(fs[i].Notes, why)
		return b.gitSource(gs[i], fs[i])
	}
	fallbackAll := func(why string) error {
		for i := range gs {
			if err := fallback(i, why); err != nil {
				return err
			}
		}
		return nil
	}
	search := keyPathSearch{Release: h.Name, Namespace: h.Namespace, Chart: src.Chart, Values: user}
	for _, g := range gs {
		for _, c := range g.changes {
			search.Targets = append(search.Targets, helmTarget{Kind: g.top.Kind, Name: g.top.Name, Container: c.Container, Init: c.Init})
		}
	}
	// With the chart, the key paths are found and the fragment checked by
	// rendering; with only the release's manifest, by matching values.
	render := src.Chart != "" && b.opts.Helm != nil
	var (
		paths  map[helmTarget]keyPath
		failed map[helmTarget]error
		base   []*unstructured.Unstructured
		err    error
	)
	if render {
		if paths, failed, err = findKeyPaths(ctx, b.opts.Helm, search); err != nil {
			return fallbackAll(err.Error())
		}
		if base, err = b.render(ctx, search, user); err != nil {
			return fallbackAll(err.Error())
		}
	} else {
		data, err := os.ReadFile(src.Manifest)
		if err != nil {
			return fmt.Errorf("release %s: reading its manifest: %w", key, err)
		}
		if base, err = parseRender(data); err != nil {
			return fmt.Errorf("release %s: manifest %s: %w", key, src.Manifest, err)
		}
		if paths, failed, err = matchKeyPaths(base, user, search.Targets); err != nil {
			return fallbackAll(fmt.Sprintf("release %s: %v", key, err))
		}
	}

	// Place every workload whose containers all have a key, and no
	// key asked for two different values.
	fragment := map[string]any{}
	placed := map[string]any{} // key path -> value set, to catch a key shared by two containers
	var ok []int
	var targets []helmTarget
	for i, g := range gs {
		why := ""
		vals := map[string]any{}
		for _, c := range g.changes {
			t := helmTarget{Kind: g.top.Kind, Name: g.top.Name, Container: c.Container, Init: c.Init}
			if e := failed[t]; e != nil {
				why = e.Error()
				break
			}
			cur, err := renderedContainer(base, t)
			if err != nil {
				why = err.Error()
				break
			}
			v := resourcesValue(cur.Resources, c.Resources)
			p := paths[t].String()
			if prev, dup := placed[p]; dup && !sameValue(prev, v) {
				why = fmt.Sprintf("values key %s feeds other containers too, which are to get other resources", p)
				break
			}
			vals[p] = v
		}
		if why != "" {
			if err := fallback(i, why); err != nil {
				return err
			}
			continue
		}
		for _, c := range g.changes {
			t := helmTarget{Kind: g.top.Kind, Name: g.top.Name, Container: c.Container, Init: c.Init}
			p := paths[t]
			placed[p.String()] = vals[p.String()]
			setPath(fragment, p, vals[p.String()])
			targets = append(targets, t)
		}
		ok = append(ok, i)
	}
	if len(ok) == 0 {
		return nil
	}
	data, err := sigsyaml.Marshal(fragment)
	if err != nil {
		return fmt.Errorf("values of release %s: %w", key, err)
	}
	var why []string
	if render {
		// Without the chart the match stands unchecked, and says so.
		why = b.checkRender(ctx, search, user, data, base, gs, fs, ok, targets)
	}
	if len(why) > 0 {
		for _, i := range ok {
			if err := fallback(i, "the values fragment was checked by rendering the chart and failed: "+strings.Join(why, "; ")); err != nil {
				return err
			}
		}
		return nil
	}

	file := "helm/" + manifest.SafeName(h.Namespace) + "/" + manifest.SafeName(h.Name) + ".values.yaml"
	var head []string
	for _, i := range ok {
		head = append(head, gs[i].reasons())
	}
	b.add(file, append([]byte(comment(strings.Join(head, "\n"))), data...))
	cmd := ""
	if src.Chart != "" {
		cmd = shell.Join("helm", "upgrade", h.Name, src.Chart, "--namespace", h.Namespace, "--reuse-values", "--values", file)
	}
	for _, i := range ok {
		f, g := fs[i], gs[i]
		f.Method = MethodHelmValues
		f.Files = []string{file}
		f.KeyPaths = map[string]string{}
		for _, c := range g.changes {
			f.KeyPaths[c.Container] = paths[helmTarget{Kind: g.top.Kind, Name: g.top.Name, Container: c.Container, Init: c.Init}].String()
		}
		if render {
			f.Notes = append(f.Notes, fmt.Sprintf("checked: rendering %s with %s changes exactly the containers' resources", src.Chart, file))
		} else {
			f.Notes = append(f.Notes, fmt.Sprintf("the values keys were inferred by matching the containers' resources in the release's manifest (%s) with its values, "+
				"not checked by rendering: name the chart in purser.yaml sources.helm to check them", src.Manifest))
		}
		if g.owner.Source == SourceHelm && cmd == "" {
			f.Notes = append(f.Notes, "run helm upgrade "+shell.Quote(h.Name)+" with the chart the release runs, --namespace "+shell.Quote(h.Namespace)+" --reuse-values --values "+file)
		}
		if g.owner.Source == SourceHelm {
			f.Command = cmd
			if h.Chart != "" {
				f.Notes = append(f.Notes, "upgrade with the chart the release runs ("+h.Chart+"): another chart version changes more than resources")
			}
		} else {
			f.Notes = append(f.Notes, fmt.Sprintf("%s renders the chart: put %s into the values it gives the chart in Git; a helm upgrade would be reverted", g.owner.Manager, file))
		}
	}
	return nil
}

func (b *builder) render(ctx context.Context, s keyPathSearch, values [][]byte) ([]*unstructured.Unstructured, error) {
	out, err := b.opts.Helm.Template(ctx, s.Release, s.Namespace, s.Chart, values)
	if err != nil {
		return nil, err
	}
	return parseRender(out)
}

func sameValue(a, b any) bool {
	x, err1 := sigsyaml.Marshal(a)
	y, err2 := sigsyaml.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// sameResources compares requests and limits by quantity.
func sameResources(a, b corev1.ResourceRequirements) bool {
	eq := func(x, y corev1.ResourceList) bool {
		if len(x) != len(y) {
			return false
		}
		for k, q := range x {
			if r, ok := y[k]; !ok || q.Cmp(r) != 0 {
				return false
			}
		}
		return true
	}
	return eq(a.Requests, b.Requests) && eq(a.Limits, b.Limits)
}

// commandsScript is every fix's command as a POSIX shell script, run from
// the directory it is in. Manual commands (reverted by a GitOps
// controller) are written commented out.
func commandsScript(fixes []Fix) []byte {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# The commands that carry out these fixes. Review, then run: sh commands.sh\nset -eu\ncd \"$(dirname \"$0\")\"\n")
	done := map[string]bool{}
	for _, f := range fixes {
		b.WriteString("\n")
		b.WriteString(comment(fmt.Sprintf("%s %q (%s): %s", f.Owner.Workload.Kind, f.Owner.Workload.Namespace+"/"+f.Owner.Workload.Name, f.Owner.Source, f.Method)))
		for _, n := range f.Notes {
			b.WriteString(comment(n))
		}
		switch {
		case f.Command != "" && !done[f.Command]:
			done[f.Command] = true
			b.WriteString(f.Command + "\n")
		case f.Command != "":
			b.WriteString("# (the command above carries this one out too)\n")
		case f.Manual != "":
			b.WriteString(comment("manual only: " + f.Manual))
		}
	}
	return []byte(b.String())
}

// checkRender renders the chart with the values fragment data: every
// placed container must get exactly its new resources. It returns what
// failed, and notes on the fixes anything else the values change.
func (b *builder) checkRender(ctx context.Context, search keyPathSearch, user [][]byte, data []byte, base []*unstructured.Unstructured,
	gs []*group, fs []*Fix, ok []int, targets []helmTarget) []string {
	after, err := b.render(ctx, search, append(append([][]byte{}, user...), data))
	if err != nil {
		return []string{err.Error()}
	}
	var why []string
	for _, i := range ok {
		for _, c := range gs[i].changes {
			t := helmTarget{Kind: gs[i].top.Kind, Name: gs[i].top.Name, Container: c.Container, Init: c.Init}
			got, err := renderedContainer(after, t)
			if err != nil {
				why = append(why, err.Error())
			} else if !sameResources(got.Resources, c.Resources) {
				why = append(why, fmt.Sprintf("rendered with the values, %s %s container %q does not get exactly the new resources (the templates change them)", t.Kind, t.Name, t.Container))
			}
		}
	}
	if len(why) > 0 {
		return why
	}
	if d := renderDiff(base, after, targets); len(d) > 0 {
		for _, i := range ok {
			fs[i].Notes = append(fs[i].Notes, "rendered with the values, the chart also changes: "+strings.Join(d, "; "))
		}
	}
	return nil
}
