package auditreport

import (
	"encoding/hex"
	"io"
	"net/url"
	"path"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/version"
)

// SARIF 2.1.0 as code-scanning services read it (docs/sarif.md): one run,
// the checks as rules, the findings as results. Code scanning refuses a
// result without an artifact location, so every result has one: the file
// and line the object was read from, else the file a GitOps tool says it
// came from, else a synthetic kubernetes:// URI naming the object in its
// cluster. The logical location (the object itself) is kept beside it.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool              sarifTool              `json:"tool"`
	AutomationDetails sarifAutomationDetails `json:"automationDetails"`
	// OriginalURIBaseIDs names the base of relative file URIs.
	OriginalURIBaseIDs map[string]sarifArtifactLocation `json:"originalUriBaseIds,omitempty"`
	// Invocations carry, as tool execution notifications, the checks that
	// ran without a kind they read; absent when every check is complete.
	Invocations []sarifInvocation `json:"invocations,omitempty"`
	Results     []sarifResult     `json:"results"`
}

type sarifAutomationDetails struct {
	ID string `json:"id"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications"`
}

type sarifNotification struct {
	Level          string         `json:"level"`
	Message        sarifText      `json:"message"`
	AssociatedRule sarifRuleRef   `json:"associatedRule"`
	Properties     map[string]any `json:"properties"`
}

type sarifRuleRef struct {
	ID    string `json:"id"`
	Index int    `json:"index"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifMultiformat struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type sarifRule struct {
	ID                   string           `json:"id"`
	Name                 string           `json:"name"`
	ShortDescription     sarifText        `json:"shortDescription"`
	FullDescription      sarifText        `json:"fullDescription"`
	Help                 sarifMultiformat `json:"help"`
	HelpURI              string           `json:"helpUri"`
	DefaultConfiguration sarifRuleConfig  `json:"defaultConfiguration"`
	Properties           sarifRuleProps   `json:"properties"`
}

type sarifRuleProps struct {
	Category string   `json:"category"`
	Tags     []string `json:"tags"`
	// SecuritySeverity ranks security alerts in code scanning (a CVSS-like
	// score as a string); only security checks carry one.
	SecuritySeverity string `json:"security-severity,omitempty"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          sarifProps        `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical   `json:"physicalLocation"`
	LogicalLocations []sarifLogical  `json:"logicalLocations"`
	Properties       *sarifLocSource `json:"properties,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           sarifRegion           `json:"region"`
}

type sarifArtifactLocation struct {
	URI         string     `json:"uri,omitempty"`
	URIBaseID   string     `json:"uriBaseId,omitempty"`
	Description *sarifText `json:"description,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// sarifLocSource says where the located object comes from, as far as the
// snapshot tells.
type sarifLocSource struct {
	// LocatedBy is "file" (read from that file and line), "kustomize"
	// (config.kubernetes.io/origin), or "cluster" (the synthetic URI).
	LocatedBy string `json:"locatedBy"`
	// Object is the object located when it is not the finding's own: a
	// pod is located at its workload.
	Object string `json:"object,omitempty"`
	// GitOps names the tool that manages the object, when one says so.
	GitOps *gitopsSource `json:"gitops,omitempty"`
}

type gitopsSource struct {
	Tool      string `json:"tool"` // argocd, flux, helm, kustomize
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Path      string `json:"path,omitempty"`
	Repo      string `json:"repo,omitempty"`
	Ref       string `json:"ref,omitempty"`
	Chart     string `json:"chart,omitempty"`
}

type sarifProps struct {
	Cause       string   `json:"cause,omitempty"`
	Evidence    []string `json:"evidence,omitempty"`
	Remediation string   `json:"remediation,omitempty"`
	Command     string   `json:"command,omitempty"`
	// Workload is the object the fingerprint names (a pod's Deployment).
	Workload string `json:"workload,omitempty"`
	// Cluster names the cluster in a report over several.
	Cluster string `json:"cluster,omitempty"`
}

// Fingerprint keys: bump the version when what is hashed changes, so that
// code scanning does not match results by different rules.
const (
	sarifFingerprintKey = "purser/v1"
	// sarifClusterFingerprintKey hashes the cluster too (a report over
	// several clusters, audit.ClusterIdentity).
	sarifClusterFingerprintKey = "purser/cluster/v1"
	srcRoot                    = "%SRCROOT%"
	checksDocURI               = "https://github.com/purserhq/purser/blob/main/docs/checks.md"
)

func sarifLevel(s audit.Severity) string {
	switch s {
	case audit.Error:
		return "error"
	case audit.Warning:
		return "warning"
	}
	return "note"
}

// securitySeverity maps a severity to the score code scanning ranks
// security alerts by: error is high, warning medium, info low.
func securitySeverity(s audit.Severity) string {
	switch s {
	case audit.Error:
		return "8.0"
	case audit.Warning:
		return "5.0"
	}
	return "2.0"
}

// SARIFOptions carry what a SARIF log needs beyond the result.
type SARIFOptions struct {
	// Index is the snapshot the result was computed from. With it each
	// result is located in the file (or GitOps source) of its object and
	// fingerprinted by its workload; without it, by the object alone.
	Index *snapshot.Index
	// Cluster, in a report over several clusters, names the result's
	// cluster: the run's category and synthetic URIs use it, each result
	// carries it in its properties, and its fingerprint includes it.
	Cluster string
}

// SARIF writes the findings as a SARIF 2.1.0 log without the snapshot:
// results are located on synthetic URIs only.
func SARIF(w io.Writer, res *audit.Result) error { return SARIFWith(w, res, SARIFOptions{}) }

// WriteFrom is Write given the snapshot the result came from, which SARIF
// uses to locate results in files; the other formats do not need it.
func WriteFrom(w io.Writer, format string, res *audit.Result, ix *snapshot.Index) error {
	if format == "sarif" {
		return SARIFWith(w, res, SARIFOptions{Index: ix})
	}
	return Write(w, format, res)
}

// SARIFWith writes the findings as a SARIF 2.1.0 log.
func SARIFWith(w io.Writer, res *audit.Result, opts SARIFOptions) error {
	return writeSARIF(w, []sarifRun{sarifRunOf(res, opts)})
}

func writeSARIF(w io.Writer, runs []sarifRun) error {
	return report.WriteJSON(w, sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: runs})
}

// sarifRunOf is the run of one cluster's audit.
func sarifRunOf(res *audit.Result, opts SARIFOptions) sarifRun {
	cluster := clusterName(res)
	if opts.Cluster != "" {
		cluster = escapeSegment(opts.Cluster)
	}
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{Name: "purser", Version: version.Get().Version,
			InformationURI: checksDocURI}},
		// One category per cluster, so that two clusters uploading to one
		// repository do not close each other's alerts.
		AutomationDetails: sarifAutomationDetails{ID: "purser/" + cluster + "/"},
		Results:           []sarifResult{},
	}
	index := map[string]int{}
	for _, c := range res.Checks {
		index[c.ID] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleFor(c))
	}
	if incomplete := res.IncompleteChecks(); len(incomplete) > 0 {
		// The audit itself succeeded; the notifications say which checks
		// could not see everything.
		inv := sarifInvocation{ExecutionSuccessful: true}
		for _, c := range incomplete {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
				Level: "warning",
				Message: sarifText{"Check " + c.ID + " is incomplete: " + strings.Join(c.Unread, ", ") +
					" could not be read, so its findings may miss objects."},
				AssociatedRule: sarifRuleRef{ID: c.ID, Index: index[c.ID]},
				Properties:     map[string]any{"status": c.Status, "unreadKinds": c.Unread},
			})
		}
		run.Invocations = []sarifInvocation{inv}
	}
	relative := false
	for _, f := range res.Findings {
		msg := f.Message
		if f.Cause != "" {
			msg += ". " + f.Cause
		}
		if f.Remediation.Text != "" {
			msg += " Fix: " + f.Remediation.Text
		}
		workload := f.Object
		if opts.Index != nil {
			workload = opts.Index.Workload(f.Object)
		}
		loc := locate(opts.Index, cluster, f.Object, workload)
		if loc.PhysicalLocation.ArtifactLocation.URIBaseID != "" {
			relative = true
		}
		props := sarifProps{Cause: f.Cause, Evidence: f.Evidence, Remediation: f.Remediation.Text, Command: f.Remediation.Command, Cluster: opts.Cluster}
		fingerprint := map[string]string{sarifFingerprintKey: audit.Identity(f.CheckID, workload)}
		if opts.Cluster != "" {
			fingerprint = map[string]string{sarifClusterFingerprintKey: audit.ClusterIdentity(opts.Cluster, f.CheckID, workload)}
		}
		if workload != f.Object {
			props.Workload = workload.String()
		}
		run.Results = append(run.Results, sarifResult{
			RuleID: f.CheckID, RuleIndex: index[f.CheckID], Level: sarifLevel(f.Severity), Message: sarifText{msg},
			Locations:           []sarifLocation{loc},
			PartialFingerprints: fingerprint,
			Properties:          props,
		})
	}
	if relative {
		run.OriginalURIBaseIDs = map[string]sarifArtifactLocation{srcRoot: {Description: &sarifText{
			"The directory purser ran in: relative file paths were given relative to it. Run purser from the repository root for code scanning to find the files."}}}
	}
	return run
}

func sarifRuleFor(c audit.CheckInfo) sarifRule {
	help := checksDocURI + "#" + c.ID
	fix := "Every result of this check names the fix for its object in its message; its properties hold the remediation and, where one exists, a ready command."
	props := sarifRuleProps{Category: string(c.Category), Tags: []string{string(c.Category)}}
	if c.Category == audit.Security {
		props.SecuritySeverity = securitySeverity(c.Severity)
		props.Tags = []string{"security"}
	}
	return sarifRule{
		ID: c.ID, Name: c.ID, ShortDescription: sarifText{firstSentence(c.Description)},
		FullDescription: sarifText{c.Description},
		Help: sarifMultiformat{
			Text:     c.Description + "\n\nHow to fix: " + fix + "\n\nReference: " + help,
			Markdown: c.Description + "\n\n**How to fix**: " + fix + "\n\n[Reference for " + c.ID + "](" + help + ")",
		},
		HelpURI:              help,
		DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(c.Severity)},
		Properties:           props,
	}
}

// locate finds the artifact location of a finding about obj, whose
// workload is workload: the file and line obj (else its workload) was read
// from; else the file kustomize recorded in its origin annotation; else
// the synthetic URI of the workload, which stays the same across rollouts.
func locate(ix *snapshot.Index, cluster string, obj, workload snapshot.Ref) sarifLocation {
	loc := sarifLocation{LogicalLocations: []sarifLogical{{Name: obj.Name, FullyQualifiedName: obj.String(),
		Kind: strings.ToLower(obj.Kind)}}}
	candidates := []snapshot.Ref{obj}
	if workload != obj {
		candidates = append(candidates, workload)
	}
	src := &sarifLocSource{LocatedBy: "cluster"}
	located := snapshot.Ref{}
	if ix != nil {
		for _, c := range candidates {
			if l, ok := ix.Location(c); ok {
				if uri, base, ok := fileURI(l.File); ok {
					loc.PhysicalLocation = sarifPhysical{ArtifactLocation: sarifArtifactLocation{URI: uri, URIBaseID: base},
						Region: sarifRegion{StartLine: max(l.Line, 1)}}
					src.LocatedBy, located = "file", c
					break
				}
			}
		}
		for _, c := range candidates {
			if src.GitOps = gitops(ix.Object(c)); src.GitOps != nil {
				break
			}
		}
		if src.LocatedBy == "cluster" {
			for _, c := range candidates {
				g := gitops(ix.Object(c))
				if g == nil || g.Tool != "kustomize" || g.Path == "" {
					continue
				}
				if uri, base, ok := repoURI(g.Path); ok {
					// The origin names the file, not the line: the file's
					// first line stands for it.
					loc.PhysicalLocation = sarifPhysical{ArtifactLocation: sarifArtifactLocation{URI: uri, URIBaseID: base},
						Region: sarifRegion{StartLine: 1}}
					src.LocatedBy, located = "kustomize", c
					break
				}
			}
		}
	}
	if src.LocatedBy == "cluster" {
		located = workload
		loc.PhysicalLocation = sarifPhysical{ArtifactLocation: sarifArtifactLocation{URI: syntheticURI(cluster, workload)},
			Region: sarifRegion{StartLine: 1}}
	}
	if located != obj {
		src.Object = located.String()
	}
	loc.Properties = src
	return loc
}

// clusterName names the cluster in synthetic URIs and in the run's
// category: the kubeconfig context, else the API server's host, else the
// snapshot's source.
func clusterName(res *audit.Result) string {
	name := res.Context
	if name == "" {
		name = res.Source
		if rest, ok := strings.CutPrefix(name, "live:"); ok {
			if u, err := url.Parse(rest); err == nil && u.Host != "" {
				rest = u.Host
			}
			name = rest
		}
	}
	if name == "" {
		name = "unknown"
	}
	return escapeSegment(name)
}

// syntheticURI names an object in its cluster:
// kubernetes:///<cluster>/<namespace>/<kind>/<name>, with "_cluster" in
// place of the namespace for cluster-scoped objects (no namespace can be
// called that: namespace names have no underscore). The cluster is a path
// segment, not the authority: an authority may not hold the escaped
// colons and slashes of a context name such as an EKS ARN.
func syntheticURI(cluster string, r snapshot.Ref) string {
	ns := r.Namespace
	if ns == "" {
		ns = "_cluster"
	}
	return "kubernetes:///" + cluster + "/" + escapeSegment(ns) + "/" + escapeSegment(strings.ToLower(r.Kind)) + "/" + escapeSegment(r.Name)
}

// escapeSegment percent-encodes every byte but the unreserved ones, so a
// context such as "arn:aws:eks:…:cluster/prod" or a name with a colon
// stays one segment of a valid URI.
func escapeSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}

// fileURI turns a path the loader read into a URI: relative paths stay
// relative (to %SRCROOT%, where purser ran), absolute ones become file:
// URIs. Backslashes are taken as Windows separators.
func fileURI(p string) (uri, base string, ok bool) {
	p = strings.ReplaceAll(p, `\`, "/")
	if p == "" {
		return "", "", false
	}
	if strings.HasPrefix(p, "/") {
		return (&url.URL{Scheme: "file", Path: path.Clean(p)}).String(), "", true
	}
	return relativeURI(path.Clean(p)), srcRoot, true
}

// repoURI turns a path a GitOps tool recorded in the cluster into a URI
// relative to the repository root. The cluster is not trusted to name a
// file outside the repository: an absolute path or one that climbs out is
// refused.
func repoURI(p string) (uri, base string, ok bool) {
	p = strings.ReplaceAll(p, `\`, "/")
	first, _, _ := strings.Cut(p, "/")
	// A colon in the first segment is a scheme or a Windows drive.
	if strings.Contains(first, ":") {
		return "", "", false
	}
	p = path.Clean(p)
	if p == "." || strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../") {
		return "", "", false
	}
	return relativeURI(p), srcRoot, true
}

// relativeURI escapes a relative path; a first segment holding a colon
// gets "./" so that it is not read as a scheme.
func relativeURI(p string) string { return (&url.URL{Path: p}).String() }

// GitOps annotations and labels that name where an object comes from.
const (
	kustomizeOrigin   = "config.kubernetes.io/origin"
	argoTrackingID    = "argocd.argoproj.io/tracking-id"
	argoInstanceLabel = "app.kubernetes.io/instance"
	fluxKustomizeName = "kustomize.toolkit.fluxcd.io/name"
	fluxKustomizeNS   = "kustomize.toolkit.fluxcd.io/namespace"
	fluxHelmName      = "helm.toolkit.fluxcd.io/name"
	fluxHelmNS        = "helm.toolkit.fluxcd.io/namespace"
	helmRelease       = "meta.helm.sh/release-name"
	helmReleaseNS     = "meta.helm.sh/release-namespace"
	helmChartLabel    = "helm.sh/chart"
)

// gitops reads which tool manages o and from where, most precise first: a
// kustomize origin names a file; Argo CD, Flux and Helm name an
// application, a Kustomization or a release. Nil when none says.
func gitops(o interface {
	GetLabels() map[string]string
	GetAnnotations() map[string]string
}) *gitopsSource {
	if o == nil {
		return nil
	}
	a, l := o.GetAnnotations(), o.GetLabels()
	get := func(k string) string {
		if v := a[k]; v != "" {
			return v
		}
		return l[k]
	}
	if v := a[kustomizeOrigin]; v != "" {
		var origin struct {
			Path         string `json:"path"`
			Repo         string `json:"repo"`
			Ref          string `json:"ref"`
			ConfiguredIn string `json:"configuredIn"`
		}
		if yaml.Unmarshal([]byte(v), &origin) == nil && (origin.Path != "" || origin.ConfiguredIn != "") {
			p := origin.Path
			if p == "" {
				// A generated object: the file that configured its generator.
				p = origin.ConfiguredIn
			}
			return &gitopsSource{Tool: "kustomize", Path: p, Repo: origin.Repo, Ref: origin.Ref}
		}
	}
	if v := a[argoTrackingID]; v != "" {
		// <application>:<group>/<kind>:<namespace>/<name>
		app, _, _ := strings.Cut(v, ":")
		return &gitopsSource{Tool: "argocd", Name: app}
	}
	if n := get(fluxKustomizeName); n != "" {
		return &gitopsSource{Tool: "flux", Name: n, Namespace: get(fluxKustomizeNS)}
	}
	if n := get(fluxHelmName); n != "" {
		return &gitopsSource{Tool: "flux-helm", Name: n, Namespace: get(fluxHelmNS)}
	}
	if n := a[helmRelease]; n != "" {
		return &gitopsSource{Tool: "helm", Name: n, Namespace: a[helmReleaseNS], Chart: l[helmChartLabel]}
	}
	// Argo CD's default tracking is this label alone. Helm charts and
	// other tools set it too, with their name in managed-by; Argo CD sets
	// no managed-by.
	if m := l["app.kubernetes.io/managed-by"]; l[argoInstanceLabel] != "" && (m == "" || strings.EqualFold(m, "argocd")) {
		n := l[argoInstanceLabel]
		return &gitopsSource{Tool: "argocd", Name: n}
	}
	return nil
}
