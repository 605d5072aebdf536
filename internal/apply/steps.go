package apply

import (
	"fmt"
	"maps"
	"slices"
	"strings"

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

// Change is the kind of change a step makes.
type Change string

// ChangeDelete deletes the object, with a UID and resourceVersion
// precondition so that an object recreated or changed since the plan was
// built is never deleted.
const ChangeDelete Change = "delete"

// Step is one change to one object, in the order the plan carries them out.
type Step struct {
	// Index counts steps from 1, as the journal and the report do.
	Index  int    `json:"index"`
	Change Change `json:"change"`
	Object Object `json:"object"`
	// What says what the step changes, for the person approving it.
	What string `json:"what"`
}

// Steps returns the ordered steps that carry p out. This version carries
// out namespace deletions only: a plan that moves objects into targets is
// refused whole, never carried out in part, since deleting the sources of
// a move before the move would lose what they hold.
func Steps(p *plan.Plan) ([]Step, error) {
	if n := len(p.Spec.Targets); n > 0 {
		names := make([]string, 0, n)
		for _, t := range p.Spec.Targets {
			names = append(names, t.Name)
		}
		return nil, fmt.Errorf("plan %s moves objects into %d target namespaces (%s): purser apply carries out namespace deletions only (the %s strategy); carry out the moves with the plan's steps (purser plan show)",
			p.Metadata.ContentHash, n, strings.Join(names, ", "), plan.StrategyEmpty)
	}
	pre := map[string]plan.Precondition{}
	for i, c := range p.Spec.Preconditions {
		if c.Action != plan.ActionDelete || c.Kind != "Namespace" || c.APIVersion != "v1" {
			return nil, fmt.Errorf("spec.preconditions[%d]: %s %s %s: purser apply carries out namespace deletions only", i, c.Action, c.Kind, c.Name)
		}
		if c.UID == "" || c.ResourceVersion == "" {
			return nil, fmt.Errorf("spec.preconditions[%d]: namespace %s has no uid or resourceVersion: the plan was built from files that do not record them, so the namespace cannot be verified; build the plan from the live cluster", i, c.Name)
		}
		pre[c.Name] = c
	}
	steps := make([]Step, 0, len(p.Spec.Deletions))
	for i, d := range p.Spec.Deletions {
		c, ok := pre[d.Namespace]
		if !ok {
			return nil, fmt.Errorf("spec.deletions[%d]: namespace %s has no precondition: the plan cannot be verified", i, d.Namespace)
		}
		delete(pre, d.Namespace)
		steps = append(steps, Step{
			Index:  len(steps) + 1,
			Change: ChangeDelete,
			Object: Object{APIVersion: c.APIVersion, Kind: c.Kind, Name: c.Name, UID: c.UID, ResourceVersion: c.ResourceVersion},
			What:   fmt.Sprintf("delete namespace %s (%s)", d.Namespace, d.Reason),
		})
	}
	if len(pre) > 0 {
		left := slices.Sorted(maps.Keys(pre))
		return nil, fmt.Errorf("spec.preconditions: namespaces %s are to be deleted but are not in spec.deletions", strings.Join(left, ", "))
	}
	return steps, nil
}
