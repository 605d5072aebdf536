package plan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// StrategyFix names a plan of audit fixes: no targets, only spec.fixes.
// The fixes live in this package, beside the consolidation, because a fix
// plan is a plan file like any other (same hash, same preconditions, same
// executor); building it is a pure function of the audit's findings and
// the snapshot they were found in.
const StrategyFix = "fix"

// Fix actions.
const (
	// FixPatch patches an object that exists, with the finding's own
	// patch and patch type, under a resourceVersion precondition.
	FixPatch = "patch"
	// FixCreate creates the objects the finding's manifest holds.
	FixCreate = "create"
	// FixDelete deletes an unused object whose finding is conclusive.
	FixDelete = "delete"
)

// ActionPatch is the precondition action of an object a fix patches.
// Objects a fix deletes carry ActionDelete.
const ActionPatch = "patch"

// Fix is one finding the plan carries out.
type Fix struct {
	Check   string `json:"check"`
	Message string `json:"message"`
	// Object is the object the finding is about.
	Object snapshot.Ref `json:"object"`
	Action string       `json:"action"`
	// Target is the object patched or deleted (with its precondition in
	// spec.preconditions).
	Target *snapshot.Ref `json:"target,omitempty"`
	// PatchType is kubectl's --type: merge, strategic or json.
	PatchType string `json:"patchType,omitempty"`
	// Patch is the patch document, JSON.
	Patch string `json:"patch,omitempty"`
	// Manifests are the objects a create fix applies.
	Manifests []*unstructured.Unstructured `json:"manifests,omitempty"`
}

// ManualFix is a selected finding the plan does not carry out, and why.
type ManualFix struct {
	Check   string       `json:"check"`
	Message string       `json:"message"`
	Object  snapshot.Ref `json:"object"`
	Reason  string       `json:"reason"`
	Command string       `json:"command,omitempty"`
}

// FixSelection chooses the findings to fix; empty fields select all.
type FixSelection struct {
	Checks    []string
	Namespace string
	// Objects are KIND/NAME arguments; the namespace is Namespace's.
	Objects []snapshot.Ref
}

// FixInput is what BuildFixes reads.
type FixInput struct {
	Index  *snapshot.Index
	Audit  *audit.Result
	Select FixSelection
	// SnapshotDigest, when the snapshot came from a saved file.
	SnapshotDigest string
}

// deletable says whether an unused-object finding is conclusive enough to
// delete the object, and why not when it is not. ConfigMaps qualify: the
// check read every pod template and reference, and the backup restores
// the object whole. Claims qualify only when no volume is bound to them:
// deleting a bound claim may delete the volume's data, which no backup of
// the object brings back. Secrets never do: deleting one leaves the
// credential it holds valid at its source.
func deletable(f audit.Finding, ix *snapshot.Index) (bool, string) {
	switch f.CheckID {
	case "configmap-unused":
		return f.Object.Kind == "ConfigMap", "not a ConfigMap"
	case "pvc-unused":
		pvc, ok := ix.Object(f.Object).(*corev1.PersistentVolumeClaim)
		if !ok {
			return false, "the claim is not in the snapshot"
		}
		if pvc.Spec.VolumeName != "" {
			return false, "the claim is bound to volume " + pvc.Spec.VolumeName + ": deleting it may delete the data, which a backup of the claim does not restore; snapshot the volume and delete it by hand"
		}
		return true, ""
	case "secret-unused":
		return false, "deleting a Secret does not revoke the credential it holds: revoke it at its source, then delete it by hand"
	}
	return false, ""
}

func (s FixSelection) selects(f audit.Finding) bool {
	if len(s.Checks) > 0 && !slices.Contains(s.Checks, f.CheckID) {
		return false
	}
	ns := f.Object.Namespace
	if f.Object.Kind == "Namespace" {
		// A finding about a namespace (no NetworkPolicy) is in it.
		ns = f.Object.Name
	}
	if s.Namespace != "" && ns != s.Namespace {
		return false
	}
	if len(s.Objects) > 0 && !slices.ContainsFunc(s.Objects, func(r snapshot.Ref) bool {
		return strings.EqualFold(r.Kind, f.Object.Kind) && r.Name == f.Object.Name
	}) {
		return false
	}
	return true
}

// BuildFixes turns the selected findings of an audit into a plan: the
// patches, creations and conclusive deletions its remediations hold, each
// object it touches recorded with its UID and resourceVersion; a finding
// whose remediation is advice only is listed in spec.manual with the
// reason. A check that could not read every kind it needs fixes nothing:
// its silence elsewhere, and its findings, may be wrong.
func BuildFixes(in FixInput) (*Plan, error) {
	ix, res := in.Index, in.Audit
	incomplete := map[string]bool{}
	for _, c := range res.Checks {
		if c.Status == audit.StatusIncomplete {
			incomplete[c.ID] = true
		}
	}
	p := &Plan{APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{
		Strategy: StrategyFix, Source: ix.S.Meta.Source, Context: ix.S.Meta.Context, CollectedAt: ix.S.Meta.CollectedAt,
		KubernetesVersion: ix.S.Meta.ServerVersion, SnapshotDigest: in.SnapshotDigest,
	}}
	touched := map[snapshot.Ref]string{}
	created := map[snapshot.Ref]string{}
	manual := func(f audit.Finding, reason string) {
		p.Spec.Manual = append(p.Spec.Manual, ManualFix{Check: f.CheckID, Message: f.Message, Object: f.Object, Reason: reason, Command: f.Remediation.Command})
	}
	// touch records the precondition of an object a fix changes, once: a
	// second fix of the same object would find it changed by the first.
	touch := func(f audit.Finding, target snapshot.Ref, action string) string {
		if by, ok := touched[target]; ok {
			return fmt.Sprintf("%s is changed by another fix of this plan (%s): fix again once this plan is applied", target, by)
		}
		if target.Kind == "Secret" && action == ActionPatch {
			// Its backup would hold the values, which a fix is never
			// given leave to read.
			return fmt.Sprintf("%s: Purser does not patch Secrets; apply the patch by hand", target)
		}
		obj := ix.Object(target)
		if obj == nil {
			return fmt.Sprintf("%s is not in the snapshot", target)
		}
		av, ok := snapshot.APIVersionOf(target.Kind)
		if !ok {
			return fmt.Sprintf("%s: kind %s is not one Purser reads", target, target.Kind)
		}
		if obj.GetUID() == "" || obj.GetResourceVersion() == "" {
			return fmt.Sprintf("%s has no uid or resourceVersion in the snapshot (read from files): build the fix plan from the live cluster", target)
		}
		touched[target] = f.CheckID
		p.Spec.Preconditions = append(p.Spec.Preconditions, Precondition{APIVersion: av, Kind: target.Kind, Namespace: target.Namespace,
			Name: target.Name, UID: string(obj.GetUID()), ResourceVersion: obj.GetResourceVersion(), Action: action})
		return ""
	}
	for _, f := range res.Findings {
		if !in.Select.selects(f) {
			continue
		}
		if incomplete[f.CheckID] {
			manual(f, "the check could not read every kind it needs, so its finding is not conclusive")
			continue
		}
		// A scale-up the command runs before the manifest it applies (two
		// replicas, then the PodDisruptionBudget) is a fix of its own.
		scale, r := leadingScale(f)
		fix := Fix{Check: f.CheckID, Message: f.Message, Object: f.Object}
		if (r.Patch != nil || r.Manifest != "") && !whole(r) {
			manual(f, "its command does more than apply the finding's patch or manifest: carry it out by hand")
			continue
		}
		switch {
		case r.Patch != nil:
			if !json.Valid([]byte(r.Patch.Body)) {
				return nil, fmt.Errorf("%s %s: its patch is not JSON", f.CheckID, f.Object)
			}
			if !slices.Contains([]string{"merge", "strategic", "json"}, r.Patch.Type) {
				return nil, fmt.Errorf("%s %s: patch type %q is not merge, strategic or json", f.CheckID, f.Object, r.Patch.Type)
			}
			if why := touch(f, r.Patch.Target, ActionPatch); why != "" {
				manual(f, why)
				continue
			}
			t := r.Patch.Target
			fix.Action, fix.Target, fix.PatchType, fix.Patch = FixPatch, &t, r.Patch.Type, r.Patch.Body
		case r.Manifest != "":
			objs, err := manifestObjects(r.Manifest)
			if err != nil {
				manual(f, "its manifest cannot be applied as it stands: "+err.Error())
				continue
			}
			why := ""
			for _, o := range objs {
				ref := snapshot.Ref{Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
				if ix.Object(ref) != nil {
					why = ref.String() + " exists already"
				} else if by, dup := created[ref]; dup {
					why = ref.String() + " is created by another fix of this plan (" + by + ")"
				}
			}
			if why != "" {
				manual(f, why)
				continue
			}
			if scale != nil {
				if why := touch(f, scale.Target, ActionPatch); why != "" {
					manual(f, why)
					continue
				}
				t := scale.Target
				p.Spec.Fixes = append(p.Spec.Fixes, Fix{Check: f.CheckID, Message: f.Message, Object: f.Object,
					Action: FixPatch, Target: &t, PatchType: scale.Type, Patch: scale.Body})
			}
			for _, o := range objs {
				created[snapshot.Ref{Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}] = f.CheckID
			}
			fix.Action, fix.Manifests = FixCreate, objs
		default:
			ok, why := deletable(f, ix)
			if !ok {
				if why == "" {
					why = "the remediation is advice, not a change Purser can make: review it and act by hand"
				}
				manual(f, why)
				continue
			}
			if why := touch(f, f.Object, ActionDelete); why != "" {
				manual(f, why)
				continue
			}
			t := f.Object
			fix.Action, fix.Target = FixDelete, &t
		}
		p.Spec.Fixes = append(p.Spec.Fixes, fix)
	}
	slices.SortFunc(p.Spec.Preconditions, func(a, b Precondition) int {
		return strings.Compare(a.Kind+"\x00"+a.Namespace+"\x00"+a.Name, b.Kind+"\x00"+b.Namespace+"\x00"+b.Name)
	})
	h, err := p.Hash()
	if err != nil {
		return nil, err
	}
	p.Metadata.ContentHash = h
	return p, nil
}

// manifestObjects reads a remediation's YAML documents; every one must
// name its apiVersion, kind and name.
func manifestObjects(doc string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for i, d := range strings.Split("\n"+doc, "\n---\n") {
		if strings.TrimSpace(d) == "" {
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if m == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("document %d: no apiVersion, kind or name", i+1)
		}
		out = append(out, u)
	}
	return out, nil
}

// whole reports whether a remediation's patch or manifest is all its
// command does: a command that also runs something else (creates a
// PriorityClass and patches the DaemonSet that uses it) would be carried
// out in part. Only the first line counts: later lines are alternatives.
func whole(r audit.Remediation) bool {
	if r.Command == "" {
		return true
	}
	line, _, _ := strings.Cut(r.Command, "\n")
	verb := "kubectl apply "
	if r.Patch != nil {
		verb = "kubectl patch "
	}
	parts := strings.Split(line, "&&")
	if r.Patch != nil && len(parts) != 1 {
		return false
	}
	for _, p := range parts {
		if !strings.HasPrefix(strings.TrimSpace(p), verb) {
			return false
		}
	}
	return true
}

// leadingScale splits a `kubectl scale` of the finding's own workload off
// the front of the command of a remediation that applies a manifest (two
// replicas, then the PodDisruptionBudget), and returns it as the merge
// patch of spec.replicas it amounts to, with the remediation left to do
// the rest. Any other command is left as it is, for whole to judge.
func leadingScale(f audit.Finding) (*audit.Patch, audit.Remediation) {
	r := f.Remediation
	if r.Manifest == "" || r.Patch != nil {
		return nil, r
	}
	line, more, _ := strings.Cut(r.Command, "\n")
	first, rest, _ := strings.Cut(line, "&&")
	target, replicas, ok := scaleCommand(first)
	if !ok || rest == "" || !sameRef(f.Object, target) {
		return nil, r
	}
	r.Command = strings.TrimSpace(rest)
	if more != "" {
		r.Command += "\n" + more
	}
	return &audit.Patch{Target: f.Object, Type: "merge", Body: fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)}, r
}

// scaleCommand reads `kubectl scale KIND/NAME|KIND NAME [-n NS]
// --replicas=N` in any order of its flags; any other word, or a kind that
// is not a Deployment or StatefulSet, makes it no scale command.
func scaleCommand(cmd string) (snapshot.Ref, int32, bool) {
	words := strings.Fields(cmd)
	if len(words) < 3 || words[0] != "kubectl" || words[1] != "scale" {
		return snapshot.Ref{}, 0, false
	}
	var ref snapshot.Ref
	replicas := int64(-1)
	var args []string
	for i := 2; i < len(words); i++ {
		w := unquote(words[i])
		switch {
		case w == "-n" || w == "--namespace":
			if i+1 == len(words) {
				return snapshot.Ref{}, 0, false
			}
			i++
			ref.Namespace = unquote(words[i])
		case strings.HasPrefix(w, "--replicas="):
			n, err := strconv.ParseInt(strings.TrimPrefix(w, "--replicas="), 10, 32)
			if err != nil || n < 0 {
				return snapshot.Ref{}, 0, false
			}
			replicas = n
		case strings.HasPrefix(w, "-"):
			return snapshot.Ref{}, 0, false
		default:
			args = append(args, w)
		}
	}
	switch len(args) {
	case 1:
		kind, name, ok := strings.Cut(args[0], "/")
		if !ok {
			return snapshot.Ref{}, 0, false
		}
		ref.Kind, ref.Name = kind, name
	case 2:
		ref.Kind, ref.Name = args[0], args[1]
	default:
		return snapshot.Ref{}, 0, false
	}
	switch strings.ToLower(ref.Kind) {
	case "deployment", "deployments", "deploy":
		ref.Kind = "Deployment"
	case "statefulset", "statefulsets", "sts":
		ref.Kind = "StatefulSet"
	default:
		return snapshot.Ref{}, 0, false
	}
	if replicas < 0 || ref.Name == "" || ref.Namespace == "" {
		return snapshot.Ref{}, 0, false
	}
	return ref, int32(replicas), true
}

// unquote removes the single quotes shell.Quote puts around a word that
// needs them; a word with a quote inside is left as it is, and then names
// no object.
func unquote(w string) string {
	if len(w) >= 2 && w[0] == '\'' && w[len(w)-1] == '\'' && !strings.Contains(w[1:len(w)-1], "'") {
		return w[1 : len(w)-1]
	}
	return w
}

func sameRef(a, b snapshot.Ref) bool {
	return strings.EqualFold(a.Kind, b.Kind) && a.Namespace == b.Namespace && a.Name == b.Name
}
