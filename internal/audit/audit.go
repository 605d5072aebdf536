// Package audit runs checks over a snapshot. A check is a pure function of
// an indexed snapshot and the audit config; it returns findings, each with
// a cause and an exact remediation. Checks live in audit/checks, one file
// each, and are listed by checks.Registry().
package audit

import (
	"context"
	"fmt"
	"strings"

	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/snapshot"
)

// Severity orders findings. Its zero value is Info.
type Severity int

// Severities, from least to most serious.
const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Error:
		return "error"
	default:
		return "info"
	}
}

// MarshalText writes the severity by name (JSON, YAML).
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity by name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity reads "info", "warning" or "error".
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "info":
		return Info, nil
	case "warning", "warn":
		return Warning, nil
	case "error":
		return Error, nil
	}
	return Info, fmt.Errorf("unknown severity %q: expected info, warning or error", s)
}

// Category groups checks in reports.
type Category string

// Categories of checks.
const (
	Availability Category = "availability" // services, pods and workloads that do not serve
	Hygiene      Category = "hygiene"      // empty namespaces, unused objects
	Resources    Category = "resources"    // requests, limits, probes, images, disruption budgets
	Security     Category = "security"     // RBAC, network policies, pod security, secrets
	Governance   Category = "governance"   // labels and conventions
)

// Remediation is how to fix a finding: an explanation and, where one
// exists, a command or manifest that does it.
type Remediation struct {
	Text     string `json:"text"`
	Command  string `json:"command,omitempty"`  // e.g. a ready `kubectl patch`
	Manifest string `json:"manifest,omitempty"` // YAML of one object to apply
	// Patch is a change to an object that exists in the cluster.
	Patch *Patch `json:"patch,omitempty"`
	// File is where `purser audit --write-fixes DIR` writes Manifest or
	// Patch, relative to DIR; Command names it by this path. Set exactly
	// when Manifest or Patch is.
	File string `json:"file,omitempty"`
}

// Patch is a change to an existing object, applied with
// `kubectl patch --type <Type> --patch-file <File>`.
type Patch struct {
	Target snapshot.Ref `json:"target"`
	// Type is kubectl's --type: "merge", "json" or "strategic".
	Type string `json:"type"`
	// Body is the patch document, JSON.
	Body string `json:"body"`
}

// Finding is one problem with one object.
type Finding struct {
	CheckID  string       `json:"check"`
	Severity Severity     `json:"severity"`
	Category Category     `json:"category"`
	Object   snapshot.Ref `json:"object"`
	// Message says what is wrong, in one line.
	Message string `json:"message"`
	// Cause says why, as far as the snapshot shows it.
	Cause string `json:"cause,omitempty"`
	// Evidence lists the facts the finding rests on.
	Evidence    []string    `json:"evidence,omitempty"`
	Remediation Remediation `json:"remediation"`
}

// Check is one audit check.
type Check interface {
	// ID is stable, kebab-case, and never reused: "service-no-endpoints".
	ID() string
	Category() Category
	DefaultSeverity() Severity
	// Description says what the check looks for and why it matters; it
	// is the text of docs/checks.md.
	Description() string
	// Run returns the findings over the snapshot. Checks set each
	// finding's severity (usually their default); the runner replaces it
	// where the config overrides the check's severity.
	// A check that reads a large cluster stops early, returning what it
	// has, when ctx is cancelled; the runner then discards the result.
	Run(ctx context.Context, in *Input) []Finding
}

// Reader is implemented by checks that declare the kinds they read, named
// as snapshot.KindStatus.GroupResource names them ("pods",
// "deployments.apps"). The runner marks such a check incomplete when the
// snapshot could not list one of them: its silence about objects it could
// not see is then not a clean bill of health.
type Reader interface {
	Reads() []string
}

// EveryNamespacedKind, among the kinds a check reads, stands for every
// namespaced kind, modelled or not (custom resources included): what a
// check that looks at whole namespaces reads.
const EveryNamespacedKind = "*"

// Input is what a check may read.
type Input struct {
	Index  *snapshot.Index
	Config *Config
	// Prices, when set, let checks say what waste costs (an idle load
	// balancer, an unused volume) from the same book `purser cost` uses.
	// Nil when no book fits the cluster: checks then give sizes only.
	Prices *pricing.Book
	// Mode is ModeManifests when the objects are manifests that carry no
	// status (over a cluster's objects or not); ModeCluster otherwise.
	Mode Mode
	// Cluster, with ModeManifests, names the cluster the manifests were
	// laid over (--cluster): what the set does not define may exist
	// there. Empty for manifests alone.
	Cluster string
}
