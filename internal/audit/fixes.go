package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/manifest"
	"github.com/purserhq/purser/internal/snapshot"
)

// The layout of the directory `purser audit --write-fixes DIR` writes:
//
//	kustomization.yaml                          lists every object below
//	<check-id>/<namespace>/<kind>-<name>.yaml   an object to create (one per finding)
//	patches/<check-id>/<namespace>/<kind>-<name>.json
//	                                            a patch of an object in the cluster
//
// Objects go through kustomize (`kubectl apply -k DIR`). Patches do not:
// kustomize patches only what its own resources hold, and the objects they
// change live in the cluster, not in DIR; each is applied by its finding's
// command, `kubectl patch ... --patch-file patches/...`, run in DIR.
// Cluster-scoped objects have the namespace "_", which no namespace can
// be (SafeName escapes '_').

// PatchDir is the directory of DIR holding the patches.
const PatchDir = "patches"

// Kustomization is the file of DIR listing the objects.
const Kustomization = "kustomization.yaml"

// ManifestPath is the path, inside the --write-fixes directory, of the
// object obj that check checkID suggests creating.
func ManifestPath(checkID string, obj snapshot.Ref) string {
	return manifest.SafeName(checkID) + "/" + manifest.SafeName(obj.Namespace) + "/" + manifest.FileName(obj.Kind, obj.Name)
}

// PatchPath is the path, inside the --write-fixes directory, of check
// checkID's patch of the object target.
func PatchPath(checkID string, target snapshot.Ref) string {
	// FileName's ".yaml" swapped for ".json" keeps it within MaxSegment.
	name := strings.TrimSuffix(manifest.FileName(target.Kind, target.Name), ".yaml") + ".json"
	return PatchDir + "/" + manifest.SafeName(checkID) + "/" + manifest.SafeName(target.Namespace) + "/" + name
}

// FixFiles returns the tree --write-fixes writes for findings: one file
// per finding whose fix is an object or a patch, and the kustomization
// listing the objects. Two findings may share a file only when they hold
// the same fix (two quotas of one namespace asking for its LimitRange);
// two objects of one kind, namespace and name, which kustomize would
// refuse, are an error naming both findings.
func FixFiles(findings []Finding) ([]manifest.File, error) {
	files, resources, _, err := fixFiles(findings)
	if err != nil {
		return nil, err
	}
	k, err := yaml.Marshal(map[string]any{"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources})
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", Kustomization, err)
	}
	head := "# Written by purser audit --write-fixes: the objects the audit's findings suggest creating.\n" +
		"# Review them, then: kubectl apply --dry-run=server -k <dir> && kubectl apply -k <dir>\n" +
		"# The patches under " + PatchDir + "/ change objects in the cluster; each finding's command applies its own\n" +
		"# (kubectl patch ... --patch-file " + PatchDir + "/...), run in this directory.\n"
	return withKustomization(files, append([]byte(head), k...)), nil
}

// ManifestFixFiles is FixFiles for manifests that have not shipped: the
// patches change the manifests' own objects, so kustomize can apply them,
// and DIR is a kustomize Component (resources to add, patches with their
// targets) that the kustomization building the manifests lists under
// components. A Component rather than patched copies of the files: the
// files keep their comments and layout, the fixes stay reviewable apart,
// and kustomize resolves the targets after the build, so manifests
// rendered by kustomize or Helm are patched as well as plain files.
func ManifestFixFiles(findings []Finding) ([]manifest.File, error) {
	files, resources, patches, err := fixFiles(findings)
	if err != nil {
		return nil, err
	}
	type target struct {
		Kind      string `json:"kind"`
		Namespace string `json:"namespace,omitempty"`
		Name      string `json:"name"`
	}
	type patch struct {
		Path   string `json:"path"`
		Target target `json:"target"`
	}
	var ps []patch
	for _, p := range patches {
		if p.live {
			// Its object is in the cluster, not in the manifests the
			// component patches: the finding's command applies the file.
			continue
		}
		ps = append(ps, patch{Path: p.path, Target: target{Kind: p.target.Kind, Namespace: p.target.Namespace, Name: p.target.Name}})
		if p.typ == "json" {
			continue // an RFC 6902 list, which kustomize applies to the target as it is
		}
		for i := range files {
			if files[i].Path != p.path {
				continue
			}
			data, err := asKustomizePatch(files[i].Data, p.target)
			if err != nil {
				return nil, fmt.Errorf("the patch of %s in %s: %w", p.target, p.path, err)
			}
			files[i].Data = data
		}
	}
	doc := map[string]any{"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component", "resources": resources}
	if len(ps) > 0 {
		doc["patches"] = ps
	}
	k, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", Kustomization, err)
	}
	head := "# Written by purser audit --manifests --write-fixes: the fixes of the manifests' findings, as a kustomize\n" +
		"# Component. List this directory under components: in the kustomization that builds the manifests, then\n" +
		"# kubectl kustomize (or kubectl apply -k) that kustomization. resources: are objects to add; patches: change\n" +
		"# the manifests' own objects.\n"
	return withKustomization(files, append([]byte(head), k...)), nil
}

// withKustomization adds the kustomization to the fix files, in order.
func withKustomization(files []manifest.File, k []byte) []manifest.File {
	files = append(files, manifest.File{Path: Kustomization, Data: k})
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files
}

// fixPatch is a patch file and the object it changes.
type fixPatch struct {
	path   string
	typ    string
	target snapshot.Ref
	// live is a patch its finding's command applies to the cluster (a
	// cluster object that manifests laid over it break).
	live bool
}

// fixFiles returns one file per finding whose fix is an object or a
// patch, the objects' paths and the patches, in order.
func fixFiles(findings []Finding) ([]manifest.File, []string, []fixPatch, error) {
	byPath := map[string][]byte{}
	owner := map[string]string{}
	ids := map[string]string{}
	var resources []string
	var patches []fixPatch
	for _, f := range findings {
		r := f.Remediation
		who := f.CheckID + " " + f.Object.String()
		var data []byte
		switch {
		case r.Manifest != "" && r.Patch != nil:
			return nil, nil, nil, fmt.Errorf("finding %s: a fix is an object or a patch, not both", who)
		case r.Manifest != "":
			objs, err := ManifestObjects(r.Manifest)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("finding %s: manifest: %w", who, err)
			}
			// The file is named after the first object; the others
			// (a policy's companions) go with it.
			if want := ManifestPath(f.CheckID, objs[0]); r.File != want {
				return nil, nil, nil, fmt.Errorf("finding %s: its manifest, %s, belongs in %s, not %q", who, objs[0], want, r.File)
			}
			for _, obj := range objs {
				id := obj.String()
				if prev, ok := ids[id]; ok && prev != r.File {
					return nil, nil, nil, fmt.Errorf("finding %s: %s is also created by %s: kustomize takes an object once", who, id, owner[prev])
				}
				ids[id] = r.File
			}
			data = []byte(manifestHeader(f) + r.Manifest)
		case r.Patch != nil:
			if want := PatchPath(f.CheckID, r.Patch.Target); r.File != want {
				return nil, nil, nil, fmt.Errorf("finding %s: its patch of %s belongs in %s, not %q", who, r.Patch.Target, want, r.File)
			}
			if !json.Valid([]byte(r.Patch.Body)) {
				return nil, nil, nil, fmt.Errorf("finding %s: the patch of %s is not JSON", who, r.Patch.Target)
			}
			var b bytes.Buffer
			if err := json.Indent(&b, []byte(r.Patch.Body), "", "  "); err != nil {
				return nil, nil, nil, fmt.Errorf("finding %s: the patch of %s: %w", who, r.Patch.Target, err)
			}
			b.WriteByte('\n')
			data = b.Bytes()
		default:
			if r.File != "" {
				return nil, nil, nil, fmt.Errorf("finding %s: names the file %q but holds no manifest or patch", who, r.File)
			}
			continue
		}
		if prev, ok := byPath[r.File]; ok {
			if !bytes.Equal(prev, data) && !sameFix(prev, data) {
				return nil, nil, nil, fmt.Errorf("finding %s: %s holds another fix, from %s", who, r.File, owner[r.File])
			}
			continue
		}
		byPath[r.File] = data
		owner[r.File] = who
		if r.Manifest != "" {
			resources = append(resources, r.File)
		} else {
			patches = append(patches, fixPatch{path: r.File, typ: r.Patch.Type, target: r.Patch.Target, live: r.Command != ""})
		}
	}
	files := make([]manifest.File, 0, len(byPath)+1)
	for p, d := range byPath {
		files = append(files, manifest.File{Path: p, Data: d})
	}
	sort.Strings(resources)
	if resources == nil {
		resources = []string{}
	}
	sort.Slice(patches, func(i, j int) bool { return patches[i].path < patches[j].path })
	return files, resources, patches, nil
}

// sameFix reports two files that differ only in their header comment:
// two findings sharing one fix.
func sameFix(a, b []byte) bool {
	return bytes.Equal(stripComments(a), stripComments(b))
}

func stripComments(b []byte) []byte {
	var out bytes.Buffer
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		if !bytes.HasPrefix(l, []byte("#")) {
			out.Write(l)
		}
	}
	return out.Bytes()
}

// manifestHeader says which finding a file fixes, as YAML comments.
func manifestHeader(f Finding) string {
	return "# Fixes " + f.CheckID + " on " + comment(f.Object.String()) + ".\n"
}

// comment returns s fit for a YAML comment: a line break would end the
// comment and let a name write YAML of its own.
func comment(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029 || r == 0x85 }) {
		q, _ := json.Marshal(s)
		return string(q)
	}
	return s
}

// ManifestObjects reads the kind, namespace and name of each object of a
// manifest, in order.
func ManifestObjects(doc string) ([]snapshot.Ref, error) {
	var out []snapshot.Ref
	for i, d := range strings.Split("\n"+doc, "\n---\n") {
		if strings.TrimSpace(d) == "" {
			continue
		}
		var obj struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(d), &obj); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if obj.Kind == "" || obj.APIVersion == "" || obj.Metadata.Name == "" {
			return nil, fmt.Errorf("document %d: needs apiVersion, kind and metadata.name", i+1)
		}
		out = append(out, snapshot.Ref{Kind: obj.Kind, Namespace: obj.Metadata.Namespace, Name: obj.Metadata.Name})
	}
	if len(out) == 0 {
		return nil, errors.New("holds no object")
	}
	return out, nil
}

// asKustomizePatch gives a merge patch the apiVersion, kind and metadata
// kustomize reads a strategic merge patch by. kustomize applies it as a
// strategic merge patch: for the merge patches the checks write (maps,
// null to remove a key) the result is the same.
func asKustomizePatch(body []byte, target snapshot.Ref) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	apiVersion, ok := snapshot.APIVersionOf(target.Kind)
	if !ok {
		return nil, fmt.Errorf("no apiVersion known for kind %s", target.Kind)
	}
	meta, _ := doc["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["name"] = target.Name
	if target.Namespace != "" {
		meta["namespace"] = target.Namespace
	}
	doc["apiVersion"], doc["kind"], doc["metadata"] = apiVersion, target.Kind, meta
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
