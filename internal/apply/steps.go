package apply

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/purserhq/purser/internal/plan"
)

// Object names a Kubernetes object with the identity and version the plan
// recorded for it.
type Object struct {
	APIVersion      string `json:"apiVersion"`
	Kind            string `json:"kind"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name"`
	UID             string `json:"uid,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
}

// String is "Kind namespace/name", or "Kind name" for cluster-scoped kinds.
func (o Object) String() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// key identifies an object whatever its version.
func (o Object) key() string { return o.Kind + "/" + o.Namespace + "/" + o.Name }

// Change is the kind of change a step makes.
type Change string

// Changes, in the order a run makes them.
const (
	// ChangeCreate creates an object of a target by server-side apply,
	// labelled with the run's operation: a target namespace, or a moved
	// object as the plan's manifests give it.
	ChangeCreate Change = "create"
	// ChangeCopySecret copies a Secret into its target, values read from
	// the cluster at the moment the step runs.
	ChangeCopySecret Change = "copy-secret"
	// ChangeRebind hands a PersistentVolume from its claim to the moved
	// claim.
	ChangeRebind Change = "rebind"
	// ChangeVerify checks a target before anything of its sources goes:
	// workloads available, Services with ready endpoints, references that
	// resolve.
	ChangeVerify Change = "verify"
	// ChangeScaleDown scales a source workload to zero.
	ChangeScaleDown Change = "scale-down"
	// ChangeDelete deletes the object, with a UID precondition so that an
	// object recreated since the plan was built is never deleted (and a
	// resourceVersion one for namespaces).
	ChangeDelete Change = "delete"
)

// OperationLabel marks every object a run creates with the run's
// operation: a rollback removes an object only when this label and the
// journal agree.
const OperationLabel = "purser.dev/operation"

// Step is one change to one object, in the order the plan carries them out.
type Step struct {
	// Index counts steps from 1, as the journal and the report do.
	Index  int    `json:"index"`
	Change Change `json:"change"`
	// Object is the object the step writes: created in a target, or
	// scaled down or deleted in a source.
	Object Object `json:"object"`
	// From is the source object of a copy or a rebind, as the plan
	// recorded it.
	From *Object `json:"from,omitempty"`
	// Volume is the PersistentVolume a rebind hands over.
	Volume *Object `json:"volume,omitempty"`
	// What says what the step changes, for the person approving it.
	What string `json:"what"`
	// PatchType and Patch are a patch step's patch: kubectl's --type and
	// the JSON document.
	PatchType string `json:"patchType,omitempty"`
	Patch     string `json:"patch,omitempty"`
	// manifest is the object a create or rebind step applies.
	manifest *unstructured.Unstructured
	// movedFrom is "namespace/name" of the source of a moved object the
	// step creates from the plan's manifests.
	movedFrom string
	// policy is what the run rewrites in a moved NetworkPolicy.
	policy *policyRewrite
}

// phase orders the steps of a plan with moves: what others refer to
// first, each target checked before anything of its sources goes.
type phase int

const (
	phaseNamespaces phase = iota
	phaseConfig           // ServiceAccounts, ConfigMaps, Secrets, quotas
	phaseVolumes          // claims, by handing their volumes over
	phaseWorkloads
	phaseServices
	phaseIngresses
	phaseRBAC
	phaseNetworkPolicies
	phaseVerify
	phaseScaleDown
	phaseDeleteSources
	phaseDeleteNamespaces
)

// kindPhase is the phase in which an object of kind is created.
func kindPhase(kind string) phase {
	switch kind {
	case "Namespace":
		return phaseNamespaces
	case "ServiceAccount", "ConfigMap", "Secret", "ResourceQuota", "LimitRange":
		return phaseConfig
	case "PersistentVolumeClaim":
		return phaseVolumes
	case "Service":
		return phaseServices
	case "Ingress":
		return phaseIngresses
	case "Role", "RoleBinding":
		return phaseRBAC
	case "NetworkPolicy":
		return phaseNetworkPolicies
	}
	return phaseWorkloads
}

// scaled are the kinds a run scales down before it deletes them, so that
// their pods are gone before their objects.
func scaled(kind string) bool {
	return kind == "Deployment" || kind == "StatefulSet" || kind == "ReplicaSet"
}

type planned struct {
	phase phase
	step  Step
}

// Steps returns the ordered steps that carry p out: namespaces, then
// ServiceAccounts, ConfigMaps and Secrets, claims by handing their
// volumes over, workloads, Services, Ingresses, RBAC, NetworkPolicies,
// then a verification of every target, and only then the sources scaled
// down, deleted, and their namespaces deleted. A plan it cannot carry out
// whole is refused whole.
func Steps(p *plan.Plan) ([]Step, error) {
	pre := map[string]plan.Precondition{}
	for i, c := range p.Spec.Preconditions {
		if c.UID == "" || c.ResourceVersion == "" {
			return nil, fmt.Errorf("spec.preconditions[%d]: %s %s has no uid or resourceVersion: the plan was built from files that do not record them, so the object cannot be verified; build the plan from the live cluster", i, c.Kind, c.Name)
		}
		k := Object{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name}.key()
		if _, dup := pre[k]; dup {
			return nil, fmt.Errorf("spec.preconditions[%d]: %s %s/%s twice", i, c.Kind, c.Namespace, c.Name)
		}
		pre[k] = c
	}
	used := map[string]bool{}
	precond := func(kind, ns, name, action string) (Object, error) {
		o := Object{Kind: kind, Namespace: ns, Name: name}
		k := o.key()
		c, ok := pre[k]
		if !ok || c.Action != action {
			return Object{}, fmt.Errorf("%s has no %s precondition: the plan cannot be verified", o, action)
		}
		used[k] = true
		return Object{APIVersion: c.APIVersion, Kind: c.Kind, Namespace: c.Namespace, Name: c.Name, UID: c.UID, ResourceVersion: c.ResourceVersion}, nil
	}
	var all []planned
	add := func(ph phase, s Step) { all = append(all, planned{ph, s}) }
	moves := namespaceMoves(p)
	for ti, t := range p.Spec.Targets {
		at := fmt.Sprintf("spec.targets[%d] (%s)", ti, t.Name)
		if t.Exists {
			if _, err := precond("Namespace", "", t.Name, plan.ActionReuse); err != nil && len(t.Moves) > 0 {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
		}
		if len(t.Moves) == 0 {
			continue
		}
		byTarget := map[string]*unstructured.Unstructured{}
		for _, m := range t.Manifests {
			byTarget[Object{Kind: m.GetKind(), Namespace: m.GetNamespace(), Name: m.GetName()}.key()] = m
		}
		if !t.Exists {
			ns := t.Manifests[0]
			add(phaseNamespaces, Step{Change: ChangeCreate, Object: Object{APIVersion: "v1", Kind: "Namespace", Name: t.Name},
				What: "create target namespace " + t.Name, manifest: ns})
		}
		var sourceSteps []planned
		for mi, mv := range t.Moves {
			at := fmt.Sprintf("%s.moves[%d]", at, mi)
			name := mv.Name
			if mv.NewName != "" {
				name = mv.NewName
			}
			src, err := precond(mv.Kind, mv.From, mv.Name, plan.ActionMove)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			dst := Object{APIVersion: src.APIVersion, Kind: mv.Kind, Namespace: t.Name, Name: name}
			m := byTarget[dst.key()]
			switch mv.How {
			case "copy-secret":
				if mv.Kind != "Secret" {
					return nil, fmt.Errorf("%s: a copy-secret move of a %s", at, mv.Kind)
				}
				add(phaseConfig, Step{Change: ChangeCopySecret, Object: dst, From: &src,
					What: fmt.Sprintf("copy Secret %s/%s to %s/%s, values read at this step", src.Namespace, src.Name, dst.Namespace, dst.Name)})
			case "rebind":
				if mv.Kind != "PersistentVolumeClaim" || m == nil {
					return nil, fmt.Errorf("%s: a rebind move of %s %s/%s without its claim among the target's manifests", at, mv.Kind, mv.From, mv.Name)
				}
				pvName, _, _ := unstructured.NestedString(m.Object, "spec", "volumeName")
				if pvName == "" {
					return nil, fmt.Errorf("%s: the moved claim %s has no spec.volumeName", at, dst)
				}
				pv, err := precond("PersistentVolume", "", pvName, plan.ActionRebind)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", at, err)
				}
				add(phaseVolumes, Step{Change: ChangeRebind, Object: dst, From: &src, Volume: &pv, manifest: m,
					What: fmt.Sprintf("hand volume %s from claim %s/%s to %s/%s: Retain, stop what mounts it, delete the claim, re-point the volume, create the claim, restore the reclaim policy",
						pvName, src.Namespace, src.Name, dst.Namespace, dst.Name)})
			case "manifest":
				if m == nil {
					return nil, fmt.Errorf("%s: %s is not among the target's manifests", at, dst)
				}
				st := Step{Change: ChangeCreate, Object: dst, manifest: m, movedFrom: src.Namespace + "/" + src.Name,
					What: fmt.Sprintf("create %s, moved from %s/%s", dst, src.Namespace, src.Name)}
				if mv.Kind == "NetworkPolicy" {
					rewritten, rw, err := rewritePolicy(m, moves)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", at, err)
					}
					st.manifest, st.policy = rewritten, &rw
					if len(rw.Rewritten) > 0 {
						st.What += "; namespace selectors rewritten: " + strings.Join(rw.Rewritten, ", ")
					}
				}
				add(kindPhase(mv.Kind), st)
			default:
				return nil, fmt.Errorf("%s: unknown move %q", at, mv.How)
			}
			if scaled(mv.Kind) {
				sourceSteps = append(sourceSteps, planned{phaseScaleDown, Step{Change: ChangeScaleDown, Object: src,
					What: fmt.Sprintf("scale %s to 0: %s runs in its place", src, dst)}})
			}
			if mv.How != "rebind" {
				sourceSteps = append(sourceSteps, planned{phaseDeleteSources, Step{Change: ChangeDelete, Object: src,
					What: fmt.Sprintf("delete %s, moved to %s", src, dst)}})
			}
		}
		add(phaseVerify, Step{Change: ChangeVerify, Object: Object{APIVersion: "v1", Kind: "Namespace", Name: t.Name},
			What: fmt.Sprintf("check target %s: workloads available, Services with ready endpoints, references resolving", t.Name)})
		all = append(all, sourceSteps...)
		for _, src := range t.Sources {
			if src == t.Name {
				continue
			}
			ns, err := precond("Namespace", "", src, plan.ActionDelete)
			if err != nil {
				return nil, fmt.Errorf("%s: source namespace: %w", at, err)
			}
			add(phaseDeleteNamespaces, Step{Change: ChangeDelete, Object: ns, What: fmt.Sprintf("delete source namespace %s, its objects moved to %s", src, t.Name)})
		}
	}
	for i, d := range p.Spec.Deletions {
		if used[Object{Kind: "Namespace", Name: d.Namespace}.key()] {
			continue
		}
		ns, err := precond("Namespace", "", d.Namespace, plan.ActionDelete)
		if err != nil {
			return nil, fmt.Errorf("spec.deletions[%d]: %w", i, err)
		}
		add(phaseDeleteNamespaces, Step{Change: ChangeDelete, Object: ns, What: fmt.Sprintf("delete namespace %s (%s)", d.Namespace, d.Reason)})
	}
	fixes, err := fixSteps(p, precond)
	if err != nil {
		return nil, err
	}
	all = append(all, fixes...)
	var left []string
	for k, c := range pre {
		if !used[k] && c.Action != plan.ActionReuse {
			left = append(left, fmt.Sprintf("%s %s %s", c.Action, c.Kind, strings.TrimPrefix(c.Namespace+"/"+c.Name, "/")))
		}
	}
	if len(left) > 0 {
		slices.Sort(left)
		return nil, fmt.Errorf("spec.preconditions: %s: acted on by no target move or deletion", strings.Join(left, ", "))
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].phase < all[j].phase })
	steps := make([]Step, len(all))
	for i, s := range all {
		s.step.Index = i + 1
		steps[i] = s.step
	}
	return steps, nil
}

// sourceNamespaces are the namespaces objects move out of: their emptiness
// is judged once their moved objects are gone, at their own step.
func sourceNamespaces(steps []Step) map[string]bool {
	out := map[string]bool{}
	for _, s := range steps {
		if s.Change == ChangeDelete && s.Object.Kind != "Namespace" {
			out[s.Object.Namespace] = true
		}
		if s.From != nil {
			out[s.From.Namespace] = true
		}
	}
	return out
}
