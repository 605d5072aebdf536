// Package plan consolidates namespaces: a strategy decides which
// namespaces merge into which targets, and the plan lists every object
// that moves, every name collision and broken reference, the real savings
// (nodes, load balancers and volumes that go away, found by packing the
// pods onto the node pools) beside the naive per-namespace estimate, and
// the return on investment. It is a pure function of a snapshot and a
// config. A plan carries everything needed to carry it out (the manifests
// as they will be applied, the steps, and what each touched object looked
// like when it was read), so a plan file read back gives the same tree and
// the same checks as the plan that was built; writing files is the
// caller's business (internal/manifest).
package plan

import (
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/purserhq/purser/internal/money"
)

// APIVersion and Kind identify a plan file. v1alpha2 made the file self
// contained (manifests, preconditions, the whole file under the hash);
// v1alpha3 writes money as exact decimal strings; v1alpha4 adds the
// audit fixes (spec.fixes, spec.manual). Earlier files are not
// read: a plan is built for one snapshot and is cheap to build again.
const (
	APIVersion = "purser.dev/v1alpha4"
	Kind       = "Plan"
)

// Plan is a reviewed consolidation. Its content hash covers everything in
// it but the hash itself, so an approval given for one plan cannot be
// replayed on another, nor on the same plan edited.
type Plan struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`
}

// Metadata says what the plan was built from.
type Metadata struct {
	Strategy string `json:"strategy"`
	// Source, CollectedAt and KubernetesVersion identify the snapshot the
	// plan was built from (snapshot.Meta).
	Source string `json:"source"`
	// Context is the kubeconfig context a live snapshot was read
	// through: apply names it when it refuses the plan on another
	// cluster. Empty for files and the demo.
	Context           string    `json:"context,omitempty"`
	CollectedAt       time.Time `json:"collectedAt,omitzero"`
	KubernetesVersion string    `json:"kubernetesVersion,omitempty"`
	// SnapshotDigest is "sha256:<hex>" of the snapshot the plan was built
	// from, in Purser's saved format (snapshot.Digest): the same cluster
	// state gives the same digest, whether it was read live, from files or
	// from a saved snapshot (Input.SnapshotDigest).
	SnapshotDigest string `json:"snapshotDigest,omitempty"`
	// ContentHash is "sha256:<hex>" over the canonical JSON of the whole
	// plan without this field; see Hash and docs/plan-format.md.
	ContentHash string `json:"contentHash,omitempty"`
}

// Spec is the content of a plan.
type Spec struct {
	Namespaces NamespaceCount `json:"namespaces"`
	Targets    []Target       `json:"targets"`
	Deletions  []Deletion     `json:"deletions"`
	Untouched  []string       `json:"untouched"`
	Notes      []string       `json:"notes,omitempty"`
	Savings    Savings        `json:"savings"`
	Naive      Naive          `json:"naive"`
	// ROI is the return on what the plan itself saves: the investment
	// buys the consolidation, and the right-sizing needs none.
	ROI ROI `json:"roi"`
	// ROIWithRightsizing counts the right-sizing too, as if the
	// consolidation were the occasion for it: shown, clearly labelled,
	// beside ROI, never instead of it.
	ROIWithRightsizing ROI `json:"roiWithRightsizing"`
	// Preconditions are the objects the plan touches as the snapshot read
	// them, sorted by kind, namespace and name.
	Preconditions []Precondition `json:"preconditions"`
	// Fixes are the audit remediations a fix plan carries out, and
	// Manual the selected findings it cannot, with the reason.
	Fixes  []Fix       `json:"fixes,omitempty"`
	Manual []ManualFix `json:"manual,omitempty"`
}

// Precondition is one object the plan acts on, with the identity and
// version it had when it was read: an executor refuses to act when the
// object it finds has another UID (deleted and recreated) or another
// resourceVersion (changed since the plan was built).
type Precondition struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	// UID and ResourceVersion are empty when the source did not record
	// them (a hand-written manifest file): such an object cannot be
	// verified, and an executor says so.
	UID             string `json:"uid,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// Action is what the plan does to it: one of the Action constants.
	Action string `json:"action"`
}

// Precondition actions.
const (
	// ActionMove: the object is recreated in its target (or its Secret
	// values copied there) and goes with its source namespace.
	ActionMove = "move"
	// ActionDelete: a namespace the plan deletes.
	ActionDelete = "delete"
	// ActionReuse: an existing target namespace that receives objects.
	ActionReuse = "reuse"
	// ActionRebind: a PersistentVolume handed from its claim to the moved
	// claim.
	ActionRebind = "rebind"
)

// NamespaceCount is the namespace arithmetic: After = Kubernetes +
// Targets + Untouched.
type NamespaceCount struct {
	Before     int `json:"before"`
	After      int `json:"after"`
	Kubernetes int `json:"kubernetes"` // protected namespaces: kube-*, default, Purser's own
	Targets    int `json:"targets"`
	Untouched  int `json:"untouched"`
	Deleted    int `json:"deleted"`
}

// Target is one namespace after the plan and what it receives.
type Target struct {
	Name string `json:"name"`
	// Exists tells whether the namespace exists today (reused, not created).
	Exists  bool     `json:"exists"`
	Sources []string `json:"sources"`
	// EmptySources are empty namespaces of the same group: deleted, not moved.
	EmptySources []string `json:"emptySources,omitempty"`
	Moves        []Move   `json:"moves"`
	// Stays counts the objects already in the target, which do not move.
	Stays     int     `json:"stays"`
	Conflicts []Issue `json:"conflicts,omitempty"` // block the plan unless resolved
	Risks     []Issue `json:"risks,omitempty"`     // need care, do not block
	Steps     []Step  `json:"steps"`
	// Manifests are the objects the target receives as they will be
	// applied, in apply order: its Namespace first, then the moved objects
	// renamed, rewritten and cleaned of what the server sets (Secrets are
	// not here: their values are copied by a step).
	Manifests []*unstructured.Unstructured `json:"manifests"`
}

// Move is one top-level object that moves; controllers recreate their
// children (ReplicaSets, Pods, Jobs, EndpointSlices) in the target.
type Move struct {
	Kind    string `json:"kind"`
	From    string `json:"from"`
	Name    string `json:"name"`
	NewName string `json:"newName,omitempty"` // set when a rename rule applies
	// How is "manifest" (in the kustomize tree), "copy-secret" (values
	// copied by a command: the snapshot never holds them) or "rebind"
	// (a PVC whose volume is handed over).
	How string `json:"how"`
}

// Issue kinds.
const (
	IssueCollision       = "name-collision"
	IssueSelectorOverlap = "selector-overlap"
	IssueDNS             = "dns-reference"
	IssueNetworkPolicy   = "networkpolicy-namespace-selector"
	IssueRoleBinding     = "rolebinding-subject"
	IssueCloudIdentity   = "cloud-identity"
	IssuePVC             = "pvc-rebind"
	IssueIngress         = "ingress-host-path"
	IssueLoadBalancer    = "loadbalancer-new-ip"
	IssueQuota           = "quota-exceeded"
	IssueLimitRange      = "limitrange-violated"
	IssueUnmodelled      = "unmodelled-kind"
)

// Issue is a conflict or a risk of one target.
type Issue struct {
	Kind    string   `json:"kind"`
	Objects []string `json:"objects"`
	Message string   `json:"message"`
	// Resolution says how the plan resolves it (a rename, a rewrite in
	// the manifests); empty for a conflict that still blocks.
	Resolution string `json:"resolution,omitempty"`
}

// Resolved reports whether the plan resolves the issue.
func (i Issue) Resolved() bool { return i.Resolution != "" }

// Step is one ordered action of a target's migration.
type Step struct {
	Text    string `json:"text"`
	Command string `json:"command,omitempty"`
}

// Deletion is a namespace the plan deletes.
type Deletion struct {
	Namespace string `json:"namespace"`
	Reason    string `json:"reason"`
}

// Blocking returns the conflicts no rule resolves, target by target.
func (p *Plan) Blocking() []Issue {
	var out []Issue
	for _, t := range p.Spec.Targets {
		for _, c := range t.Conflicts {
			if !c.Resolved() {
				c.Objects = append([]string{"target " + t.Name}, c.Objects...)
				out = append(out, c)
			}
		}
	}
	return out
}

// Savings are what goes away a month, in two parts that are never
// confused: what the plan itself saves (the nodes, load balancers and
// volumes that carrying it out frees), and what resizing the node pools to
// what today's pods request saves, an opportunity that exists with or
// without the plan. Nodes are counted by packing the pods with each node
// full at its pool's target utilisation, never at 100%. All amounts are in
// Currency, the price book's.
type Savings struct {
	Currency      string          `json:"currency"`
	Packing       PackingSettings `json:"packing"`
	Pools         []PoolSavings   `json:"pools"`
	LoadBalancers AssetSavings    `json:"loadBalancers"`
	Volumes       AssetSavings    `json:"volumes"`
	// Plan is what the plan itself saves: the nodes its moves and
	// deletions free (needed before minus needed after, both at the
	// target), and the load balancers and volumes it deletes.
	Plan Saving `json:"plan"`
	// Rightsizing is what resizing each pool to the nodes today's pods
	// need at the target saves (nodes today minus needed before);
	// negative when a pool must grow. The pool steps realise it.
	Rightsizing Saving `json:"rightsizing"`
	// Monthly = Plan + Rightsizing: the plan carried out with its pool
	// steps.
	Monthly money.Amount `json:"monthly"`
	Note    string       `json:"note"`
	// Steps resize the pools to what the packing found; without them the
	// freed nodes keep running and are billed.
	Steps    []Step   `json:"steps,omitempty"`
	Unplaced []string `json:"unplaced,omitempty"` // Pending pods no pool packing models can hold
	Errors   []string `json:"errors,omitempty"`   // prices that could not be found
	// Warnings are prices the book derived rather than listed (an
	// instance type priced by its capacity), worded as `purser cost`
	// words them.
	Warnings []string `json:"warnings,omitempty"`
}

// Saving is a monthly amount with its arithmetic spelt out, a line per
// asset: "applications pool: 14 nodes today, 4 needed at 80% of
// allocatable: 10 nodes of s-2vcpu-4gb at USD 24.00 each = USD 240.00".
type Saving struct {
	Monthly    money.Amount `json:"monthly"`
	Arithmetic []string     `json:"arithmetic,omitempty"`
}

// PackingSettings record how the simulation ran.
type PackingSettings struct {
	Method string `json:"method"`
	// TargetUtilization is the percent of a node's allocatable CPU and
	// memory at which it counts as full, for pools without their own
	// (PoolSavings.TargetUtilization).
	TargetUtilization int `json:"targetUtilization"`
}

// PoolSavings compares a node pool today, packed before the plan and
// packed after it.
type PoolSavings struct {
	Pool              string `json:"pool"`
	InstanceType      string `json:"instanceType"`
	TargetUtilization int    `json:"targetUtilization"` // percent of allocatable
	Nodes             int    `json:"nodes"`             // running today
	// RunsAll tells that the pool runs today every pod packed onto it:
	// its nodes today are then the most it needs.
	RunsAll bool `json:"runsAll"`
	// PackedBefore is the node count the packing of today's pods reaches
	// at the target; NeededBefore is the same, capped at Nodes when
	// RunsAll (see sched.PoolPacking).
	PackedBefore int          `json:"packedBefore"`
	NeededBefore int          `json:"neededBefore"`
	NeededAfter  int          `json:"neededAfter"` // the pods after the plan, likewise
	FreedByPlan  int          `json:"freedByPlan"` // NeededBefore - NeededAfter
	Rightsizing  int          `json:"rightsizing"` // Nodes - NeededBefore; negative: the pool must grow
	Freed        int          `json:"freed"`       // Nodes - NeededAfter = FreedByPlan + Rightsizing
	NodeMonthly  money.Amount `json:"nodeMonthly"`
	Monthly      money.Amount `json:"monthly"` // Freed × NodeMonthly
	Note         string       `json:"note,omitempty"`
}

// AssetSavings are load balancers or volumes that go away.
type AssetSavings struct {
	Count   int          `json:"count"`
	GiB     int64        `json:"gib,omitempty"`
	Monthly money.Amount `json:"monthly"`
	Note    string       `json:"note"`
}

// Naive is the strategy document's estimate: a flat price per namespace
// removed. It is shown beside the real savings, never added to them, and
// is usually in another currency.
type Naive struct {
	PerNamespace money.Amount `json:"perNamespace"`
	Namespaces   int          `json:"namespaces"`
	Monthly      money.Amount `json:"monthly"`
	Note         string       `json:"note"`
}

// ROI is the return on investment from measured savings.
type ROI struct {
	Days       int          `json:"days"`
	DailyRate  money.Amount `json:"dailyRate"`
	Investment money.Amount `json:"investment"`
	// MonthlySavings are the savings the ROI is computed on (the plan's
	// own, or with the right-sizing) in the investment's currency,
	// converted by ExchangeRate when they differ.
	MonthlySavings money.Amount  `json:"monthlySavings"`
	ExchangeRate   *ExchangeRate `json:"exchangeRate,omitempty"`
	// PaybackMonth is the first month whose cumulative savings cover the
	// investment; 0 when savings never do.
	PaybackMonth int        `json:"paybackMonth"`
	Cumulative   []ROIPoint `json:"cumulative"`
	// Error says why no ROI could be computed (currencies without a rate).
	Error string `json:"error,omitempty"`
}

// ROIPoint is the cumulative result at a month, with its arithmetic.
type ROIPoint struct {
	Month      int          `json:"month"`
	Value      money.Amount `json:"value"`
	Arithmetic string       `json:"arithmetic"`
}
