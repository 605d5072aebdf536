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
// v1alpha1 files cannot be carried out and are not read.
const (
	APIVersion = "purser.dev/v1alpha2"
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
	Source            string    `json:"source"`
	CollectedAt       time.Time `json:"collectedAt"`
	KubernetesVersion string    `json:"kubernetesVersion,omitempty"`
	// SnapshotDigest is "sha256:<hex>" of the saved snapshot the plan was
	// built from, when it was built from one (Input.SnapshotDigest).
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
	ROI        ROI            `json:"roi"`
	// Preconditions are the objects the plan touches as the snapshot read
	// them, sorted by kind, namespace and name.
	Preconditions []Precondition `json:"preconditions"`
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

// Savings are what the plan really saves a month: assets that go away.
// All amounts are in Currency, the price book's.
type Savings struct {
	Currency      string        `json:"currency"`
	Pools         []PoolSavings `json:"pools"`
	LoadBalancers AssetSavings  `json:"loadBalancers"`
	Volumes       AssetSavings  `json:"volumes"`
	Monthly       money.Amount  `json:"monthly"`
	Arithmetic    string        `json:"arithmetic"`
	// FromMoves is what the moves themselves free (packing before the
	// plan minus packing after it); FromRightsizing is what shrinking the
	// pools to today's pods frees (nodes today minus packing before).
	// Monthly = FromMoves + FromRightsizing + load balancers + volumes.
	FromMoves       money.Amount `json:"fromMoves"`
	FromRightsizing money.Amount `json:"fromRightsizing"`
	Note            string       `json:"note"`
	// Steps resize the pools to what the packing found; without them the
	// freed nodes keep running and are billed.
	Steps    []Step          `json:"steps,omitempty"`
	Unplaced []string        `json:"unplaced,omitempty"` // pods no node of any pool can hold
	Errors   []string        `json:"errors,omitempty"`   // prices that could not be found
	Packing  PackingSettings `json:"packing"`
}

// PackingSettings record how the simulation ran.
type PackingSettings struct {
	Method string `json:"method"`
}

// PoolSavings compares a node pool today, packed before the plan and
// packed after it.
type PoolSavings struct {
	Pool         string       `json:"pool"`
	InstanceType string       `json:"instanceType"`
	Nodes        int          `json:"nodes"`        // running today
	NeededBefore int          `json:"neededBefore"` // packing today's pods
	NeededAfter  int          `json:"neededAfter"`  // packing the pods after the plan
	Freed        int          `json:"freed"`        // Nodes - NeededAfter; negative: the pool must grow
	NodeMonthly  money.Amount `json:"nodeMonthly"`
	Monthly      money.Amount `json:"monthly"` // Freed × NodeMonthly
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
	// MonthlySavings is Savings.Monthly in the investment's currency,
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
