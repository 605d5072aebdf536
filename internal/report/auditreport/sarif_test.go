package auditreport

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/golden"
	"github.com/purserhq/purser/internal/version"
)

// sarifSchema compiles the SARIF 2.1.0 schema kept in testdata (see
// testdata/README.md for where it comes from), with formats such as "uri"
// asserted: code scanning reads URIs, so a malformed one is an error.
func sarifSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("sarif-schema-2.1.0.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const name = "sarif-schema-2.1.0.json"
	if err := c.AddResource(name, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(name)
	if err != nil {
		t.Fatalf("compiling the SARIF schema: %v", err)
	}
	return s
}

// validateSARIF fails t when log is not valid SARIF 2.1.0.
func validateSARIF(t testing.TB, schema *jsonschema.Schema, name string, log []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(log))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Errorf("%s is not valid SARIF 2.1.0: %v", name, err)
	}
}

// fixtureIndexResult is fixtureResult with its index.
func fixtureIndexResult(t *testing.T) (*audit.Result, *snapshot.Index) {
	t.Helper()
	ix := snapshot.NewIndex(fixtureSnapshot(t))
	ids := []string{"service-no-endpoints", "pod-crashloop", "pod-pending", "daemonset-coverage", "workload-scaled-to-zero",
		"workload-unavailable", "job-failed", "cronjob-suspended", "namespace-empty", "pod-runs-as-root"}
	cfg := &audit.Config{Overrides: []audit.Override{{Check: "cronjob-suspended", Severity: "warning"}}}
	res, err := audit.Run(context.Background(), ix, checks.Registry(), cfg, audit.Options{Checks: ids})
	if err != nil {
		t.Fatal(err)
	}
	return res, ix
}

// sarifBytes renders res with the tool version replaced, as in the goldens.
func sarifBytes(t testing.TB, res *audit.Result, ix *snapshot.Index) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteFrom(&b, "sarif", res, ix); err != nil {
		t.Fatal(err)
	}
	return bytes.Replace(b.Bytes(), []byte(`"version": "`+version.Get().Version+`"`), []byte(`"version": "VERSION"`), 1)
}

// The golden of a file audit: every result is located at the file and
// line of its object, pods of a workload are fingerprinted by it.
func TestSARIFGoldenLocated(t *testing.T) {
	t.Parallel()
	res, ix := fixtureIndexResult(t)
	golden.Assert(t, filepath.Join("testdata", "audit-located.sarif.json"), sarifBytes(t, res, ix))
}

// Both goldens, and a log with a notification, are valid SARIF 2.1.0.
func TestSARIFGoldensMatchSchema(t *testing.T) {
	t.Parallel()
	schema := sarifSchema(t)
	for _, name := range []string{"audit.sarif.json", "audit-located.sarif.json", "demo.sarif.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		validateSARIF(t, schema, name, data)
	}
	var b bytes.Buffer
	if err := SARIF(&b, incompleteResult(t)); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, schema, "incomplete audit", b.Bytes())
}

// The validator does refuse what code scanning would: a test of the
// schema test itself.
func TestSARIFSchemaRefusesInvalidLogs(t *testing.T) {
	t.Parallel()
	schema := sarifSchema(t)
	res, ix := fixtureIndexResult(t)
	good := sarifBytes(t, res, ix)
	tests := []struct{ name, from, to string }{
		{"unknown level", `"level": "error"`, `"level": "fatal"`},
		{"start line zero", `"startLine": `, `"startLine": -`},
		{"wrong version", `"version": "2.1.0"`, `"version": "2.0.0"`},
		{"malformed uri", `"uri": "testdata/`, `"uri": "%zz/`},
		{"malformed authority", `"uri": "testdata/`, `"uri": "kubernetes://a%3Ab/`},
	}
	for _, tt := range tests {
		bad := bytes.Replace(good, []byte(tt.from), []byte(tt.to), 1)
		if bytes.Equal(bad, good) {
			t.Fatalf("%s: %s not in the log", tt.name, tt.from)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(inst); err == nil {
			t.Errorf("%s: the schema accepted it", tt.name)
		}
	}
}

type sarifDoc struct {
	Runs []struct {
		AutomationDetails  struct{ ID string }        `json:"automationDetails"`
		OriginalURIBaseIDs map[string]json.RawMessage `json:"originalUriBaseIds"`
		Tool               struct {
			Driver struct {
				Rules []struct {
					ID      string `json:"id"`
					HelpURI string `json:"helpUri"`
					Help    struct {
						Text     string `json:"text"`
						Markdown string `json:"markdown"`
					} `json:"help"`
					ShortDescription struct{ Text string } `json:"shortDescription"`
					FullDescription  struct{ Text string } `json:"fullDescription"`
					Properties       struct {
						Tags             []string `json:"tags"`
						SecuritySeverity string   `json:"security-severity"`
						Category         string   `json:"category"`
					} `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID              string `json:"ruleId"`
			Message             struct{ Text string }
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Locations           []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
					Region struct{ StartLine int } `json:"region"`
				} `json:"physicalLocation"`
				LogicalLocations []struct{ FullyQualifiedName string } `json:"logicalLocations"`
				Properties       struct {
					LocatedBy string `json:"locatedBy"`
					Object    string `json:"object"`
					GitOps    *struct {
						Tool, Name, Path string
					} `json:"gitops"`
				} `json:"properties"`
			} `json:"locations"`
		} `json:"results"`
	} `json:"runs"`
}

func parseSARIF(t testing.TB, data []byte) sarifDoc {
	t.Helper()
	var d sarifDoc
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(d.Runs))
	}
	return d
}

func TestSARIFLocatesResultsInFiles(t *testing.T) {
	t.Parallel()
	res, ix := fixtureIndexResult(t)
	d := parseSARIF(t, sarifBytes(t, res, ix))
	run := d.Runs[0]
	if len(run.Results) != len(res.Findings) || len(run.Results) == 0 {
		t.Fatalf("%d results for %d findings", len(run.Results), len(res.Findings))
	}
	if _, ok := run.OriginalURIBaseIDs["%SRCROOT%"]; !ok {
		t.Error("relative URIs without originalUriBaseIds")
	}
	if run.AutomationDetails.ID != "purser/testdata%2Fcluster.yaml/" {
		t.Errorf("automationDetails.id = %q", run.AutomationDetails.ID)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for i, r := range run.Results {
		loc := r.Locations[0]
		pl := loc.PhysicalLocation
		if pl.ArtifactLocation.URI != "testdata/cluster.yaml" || pl.ArtifactLocation.URIBaseID != "%SRCROOT%" || loc.Properties.LocatedBy != "file" {
			t.Errorf("result %d (%s): located at %+v by %q, want testdata/cluster.yaml", i, r.RuleID, pl, loc.Properties.LocatedBy)
			continue
		}
		// The line is where the located object's document starts: its
		// kind follows within a few lines, and its name too.
		obj := loc.LogicalLocations[0].FullyQualifiedName
		if loc.Properties.Object != "" {
			obj = loc.Properties.Object
		}
		kind, name := obj[:strings.Index(obj, "/")], obj[strings.LastIndex(obj, "/")+1:]
		doc := strings.Join(lines[pl.Region.StartLine-1:min(pl.Region.StartLine+6, len(lines))], "\n")
		if !regexp.MustCompile(`(?m)^kind: `+kind+`$`).MatchString(doc) || !strings.Contains(doc, name) {
			t.Errorf("result %d (%s on %s): line %d does not start %s:\n%s", i, r.RuleID, obj, pl.Region.StartLine, obj, doc)
		}
	}
}

func TestSARIFFingerprintsNameTheWorkload(t *testing.T) {
	t.Parallel()
	res, ix := fixtureIndexResult(t)
	d := parseSARIF(t, sarifBytes(t, res, ix))
	found := false
	for i, f := range res.Findings {
		r := d.Runs[0].Results[i]
		want := audit.Identity(f.CheckID, ix.Workload(f.Object))
		if got := r.PartialFingerprints["purser/v1"]; got != want {
			t.Errorf("%s on %s: fingerprint %q, want %q", f.CheckID, f.Object, got, want)
		}
		if f.Object.Kind == "Pod" && ix.Workload(f.Object).Kind != "Pod" {
			found = true
			if fp := audit.Identity(f.CheckID, f.Object); r.PartialFingerprints["purser/v1"] == fp {
				t.Errorf("%s on %s: fingerprinted by the pod", f.CheckID, f.Object)
			}
		}
	}
	if !found {
		t.Error("the fixture has no finding about a pod of a workload: the test shows nothing")
	}
	// Without the snapshot, the object is all there is.
	var b bytes.Buffer
	if err := SARIF(&b, res); err != nil {
		t.Fatal(err)
	}
	plain := parseSARIF(t, b.Bytes())
	for i, f := range res.Findings {
		if got := plain.Runs[0].Results[i].PartialFingerprints["purser/v1"]; got != audit.Identity(f.CheckID, f.Object) {
			t.Errorf("without the snapshot, %s on %s: fingerprint %q", f.CheckID, f.Object, got)
		}
	}
}

func TestSARIFRules(t *testing.T) {
	t.Parallel()
	res, ix := fixtureIndexResult(t)
	d := parseSARIF(t, sarifBytes(t, res, ix))
	anchors := checksDocAnchors(t)
	security := 0
	for _, r := range d.Runs[0].Tool.Driver.Rules {
		if r.ShortDescription.Text == "" || r.FullDescription.Text == "" || r.Help.Text == "" || r.Help.Markdown == "" {
			t.Errorf("%s: descriptions or help missing", r.ID)
		}
		anchor, ok := strings.CutPrefix(r.HelpURI, checksDocURI+"#")
		if !ok || !anchors[anchor] {
			t.Errorf("%s: helpUri %q is not an anchor of docs/checks.md", r.ID, r.HelpURI)
		}
		if !strings.Contains(r.Help.Markdown, "("+r.HelpURI+")") {
			t.Errorf("%s: help markdown does not link %s", r.ID, r.HelpURI)
		}
		isSec := r.Properties.Category == string(audit.Security)
		hasTag := len(r.Properties.Tags) > 0 && r.Properties.Tags[0] == "security"
		if isSec != hasTag || isSec != (r.Properties.SecuritySeverity != "") {
			t.Errorf("%s (%s): tags %v, security-severity %q", r.ID, r.Properties.Category, r.Properties.Tags, r.Properties.SecuritySeverity)
		}
		if isSec {
			security++
		}
	}
	if security == 0 {
		t.Error("no security check in the fixture: the security-severity rule is not shown")
	}
	// Every check's rule links a heading that docs/checks.md has.
	for _, c := range checks.Registry() {
		if r := sarifRuleFor(audit.CheckInfo{ID: c.ID(), Category: c.Category(), Severity: c.DefaultSeverity(), Description: c.Description()}); !anchors[strings.TrimPrefix(r.HelpURI, checksDocURI+"#")] {
			t.Errorf("%s: helpUri %s has no heading in docs/checks.md", c.ID(), r.HelpURI)
		}
	}
	for _, tt := range []struct {
		sev  audit.Severity
		want string
	}{{audit.Error, "8.0"}, {audit.Warning, "5.0"}, {audit.Info, "2.0"}} {
		if got := securitySeverity(tt.sev); got != tt.want {
			t.Errorf("securitySeverity(%s) = %s, want %s", tt.sev, got, tt.want)
		}
	}
}

// checksDocAnchors lists the anchors GitHub gives the headings of
// docs/checks.md: lower case, punctuation but hyphens dropped, spaces as
// hyphens.
func checksDocAnchors(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "checks.md"))
	if err != nil {
		t.Fatal(err)
	}
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	out := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if h, ok := strings.CutPrefix(line, "#"); ok {
			h = strings.TrimSpace(strings.TrimLeft(h, "#"))
			out[strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(h), ""), " ", "-")] = true
		}
	}
	return out
}

func TestSARIFLocate(t *testing.T) {
	t.Parallel()
	yes := true
	obj := func(name, uid string, annotations, labels map[string]string, owner ...metav1.OwnerReference) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: "shop", UID: typesUID(uid), Annotations: annotations, Labels: labels, OwnerReferences: owner}
	}
	owned := func(kind, name, uid string) metav1.OwnerReference {
		return metav1.OwnerReference{Kind: kind, Name: name, UID: typesUID(uid), Controller: &yes}
	}
	origin := "path: apps/web/deployment.yaml\nrepo: https://example.com/org/repo\nref: main\n"
	s := &snapshot.Snapshot{Meta: snapshot.Meta{Source: "live:https://10.0.0.1:6443"}}
	s.Deployments = append(s.Deployments,
		deployment(obj("web", "d1", map[string]string{"config.kubernetes.io/origin": origin}, nil)),
		deployment(obj("argo", "d2", map[string]string{"argocd.argoproj.io/tracking-id": "shop-app:apps/Deployment:shop/argo"}, nil)),
		deployment(obj("flux", "d3", nil, map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"})),
		deployment(obj("chart", "d4", map[string]string{"meta.helm.sh/release-name": "chart", "meta.helm.sh/release-namespace": "shop"},
			map[string]string{"app.kubernetes.io/instance": "chart", "app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "chart-1.2.3"})),
		deployment(obj("escape", "d5", map[string]string{"config.kubernetes.io/origin": "path: ../../etc/passwd\n"}, nil)),
		deployment(obj("gen", "d6", map[string]string{"config.kubernetes.io/origin": "configuredIn: overlays/prod/kustomization.yaml\n"}, nil)),
	)
	s.ReplicaSets = append(s.ReplicaSets, replicaSet(obj("web-7f9c", "r1", nil, nil, owned("Deployment", "web", "d1"))))
	s.Pods = append(s.Pods, pod(obj("web-7f9c-x1", "p1", nil, nil, owned("ReplicaSet", "web-7f9c", "r1"))))
	ix := snapshot.NewIndex(s)
	ref := func(kind, name string) snapshot.Ref { return snapshot.Ref{Kind: kind, Namespace: "shop", Name: name} }
	cluster := clusterName(&audit.Result{Source: s.Meta.Source})
	if cluster != "10.0.0.1%3A6443" {
		t.Errorf("cluster name %q, want the API server's host", cluster)
	}
	tests := []struct {
		name      string
		obj       snapshot.Ref
		uri, base string
		by, tool  string
		located   string
	}{
		{"kustomize origin names the file", ref("Deployment", "web"), "apps/web/deployment.yaml", "%SRCROOT%", "kustomize", "kustomize", ""},
		{"a pod is located at its workload's origin", ref("Pod", "web-7f9c-x1"), "apps/web/deployment.yaml", "%SRCROOT%", "kustomize", "kustomize", "Deployment/shop/web"},
		{"argo cd names no file", ref("Deployment", "argo"), "kubernetes:///10.0.0.1%3A6443/shop/deployment/argo", "", "cluster", "argocd", ""},
		{"flux names no file", ref("Deployment", "flux"), "kubernetes:///10.0.0.1%3A6443/shop/deployment/flux", "", "cluster", "flux", ""},
		{"helm names no file", ref("Deployment", "chart"), "kubernetes:///10.0.0.1%3A6443/shop/deployment/chart", "", "cluster", "helm", ""},
		{"an origin outside the repository is refused", ref("Deployment", "escape"), "kubernetes:///10.0.0.1%3A6443/shop/deployment/escape", "", "cluster", "kustomize", ""},
		{"a generated object is located at its generator", ref("Deployment", "gen"), "overlays/prod/kustomization.yaml", "%SRCROOT%", "kustomize", "kustomize", ""},
		{"an object the snapshot lacks", snapshot.Ref{Kind: "ClusterRole", Name: "system:admin"}, "kubernetes:///10.0.0.1%3A6443/_cluster/clusterrole/system%3Aadmin", "", "cluster", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := locate(ix, cluster, tt.obj, ix.Workload(tt.obj))
			al := loc.PhysicalLocation.ArtifactLocation
			if al.URI != tt.uri || al.URIBaseID != tt.base || loc.PhysicalLocation.Region.StartLine != 1 {
				t.Errorf("located at %+v line %d, want %s (base %q) line 1", al, loc.PhysicalLocation.Region.StartLine, tt.uri, tt.base)
			}
			if loc.Properties.LocatedBy != tt.by || loc.Properties.Object != tt.located {
				t.Errorf("located by %q at %q, want %q at %q", loc.Properties.LocatedBy, loc.Properties.Object, tt.by, tt.located)
			}
			tool := ""
			if loc.Properties.GitOps != nil {
				tool = loc.Properties.GitOps.Tool
			}
			if tool != tt.tool {
				t.Errorf("gitops tool %q, want %q", tool, tt.tool)
			}
			if loc.LogicalLocations[0].FullyQualifiedName != tt.obj.String() {
				t.Errorf("logical location %q, want %q", loc.LogicalLocations[0].FullyQualifiedName, tt.obj)
			}
		})
	}
}

func TestSARIFURIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, uri, base string
	}{
		{"manifests/web.yaml", "manifests/web.yaml", "%SRCROOT%"},
		{"./manifests//web.yaml", "manifests/web.yaml", "%SRCROOT%"},
		{"my dir/web#1.yaml", "my%20dir/web%231.yaml", "%SRCROOT%"},
		{"a:b/web.yaml", "./a:b/web.yaml", "%SRCROOT%"},
		{"/srv/repo/web.yaml", "file:///srv/repo/web.yaml", ""},
		{`deploy\web.yaml`, "deploy/web.yaml", "%SRCROOT%"},
	}
	for _, tt := range tests {
		uri, base, ok := fileURI(tt.in)
		if !ok || uri != tt.uri || base != tt.base {
			t.Errorf("fileURI(%q) = %q, %q, %v; want %q, %q", tt.in, uri, base, ok, tt.uri, tt.base)
		}
	}
	for _, p := range []string{"/etc/passwd", "../x.yaml", "a/../../x.yaml", ".", "https://example.com/x.yaml"} {
		if uri, _, ok := repoURI(p); ok {
			t.Errorf("repoURI(%q) = %q, want refused", p, uri)
		}
	}
	for in, want := range map[string]string{
		"arn:aws:eks:us-east-1:1:cluster/prod": "arn%3Aaws%3Aeks%3Aus-east-1%3A1%3Acluster%2Fprod",
		"do-nyc1-blue_ocean.v2~x":              "do-nyc1-blue_ocean.v2~x",
		"ü":                                    "%C3%BC",
	} {
		if got := escapeSegment(in); got != want {
			t.Errorf("escapeSegment(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tt := range []struct {
		res  audit.Result
		want string
	}{
		{audit.Result{Context: "prod", Source: "live:https://1.2.3.4"}, "prod"},
		{audit.Result{Source: "live:https://1.2.3.4:6443"}, "1.2.3.4%3A6443"},
		{audit.Result{Source: "demo:blueocean"}, "demo%3Ablueocean"},
		{audit.Result{}, "unknown"},
	} {
		if got := clusterName(&tt.res); got != tt.want {
			t.Errorf("clusterName(%+v) = %q, want %q", tt.res, got, tt.want)
		}
	}
}

func typesUID(s string) types.UID { return types.UID(s) }

func deployment(m metav1.ObjectMeta) appsv1.Deployment { return appsv1.Deployment{ObjectMeta: m} }

func replicaSet(m metav1.ObjectMeta) appsv1.ReplicaSet { return appsv1.ReplicaSet{ObjectMeta: m} }

func pod(m metav1.ObjectMeta) corev1.Pod { return corev1.Pod{ObjectMeta: m} }

func TestGitOpsSource(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		annotations, labels map[string]string
		want                *gitopsSource
	}{
		{"none", nil, map[string]string{"app": "web"}, nil},
		{"kustomize origin", map[string]string{"config.kubernetes.io/origin": "path: base/web.yaml\nrepo: https://example.com/r\nref: v1\n"}, nil,
			&gitopsSource{Tool: "kustomize", Path: "base/web.yaml", Repo: "https://example.com/r", Ref: "v1"}},
		{"malformed origin is no origin", map[string]string{"config.kubernetes.io/origin": "path: [unclosed"}, nil, nil},
		{"argo cd annotation", map[string]string{"argocd.argoproj.io/tracking-id": "shop:apps/Deployment:shop/web"}, nil,
			&gitopsSource{Tool: "argocd", Name: "shop"}},
		{"argo cd label", nil, map[string]string{"app.kubernetes.io/instance": "shop"}, &gitopsSource{Tool: "argocd", Name: "shop"}},
		{"the instance label of a Helm chart is Helm's", nil,
			map[string]string{"app.kubernetes.io/instance": "shop", "app.kubernetes.io/managed-by": "Helm"}, nil},
		{"flux kustomization", nil, map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"},
			&gitopsSource{Tool: "flux", Name: "apps", Namespace: "flux-system"}},
		{"flux helm release", nil, map[string]string{"helm.toolkit.fluxcd.io/name": "redis", "helm.toolkit.fluxcd.io/namespace": "cache"},
			&gitopsSource{Tool: "flux-helm", Name: "redis", Namespace: "cache"}},
		{"helm release", map[string]string{"meta.helm.sh/release-name": "redis", "meta.helm.sh/release-namespace": "cache"},
			map[string]string{"helm.sh/chart": "redis-19.0.1", "app.kubernetes.io/instance": "redis", "app.kubernetes.io/managed-by": "Helm"},
			&gitopsSource{Tool: "helm", Name: "redis", Namespace: "cache", Chart: "redis-19.0.1"}},
	}
	for _, tt := range tests {
		got := gitops(&metav1.ObjectMeta{Annotations: tt.annotations, Labels: tt.labels})
		if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
			t.Errorf("%s: gitops = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if gitops(nil) != nil {
		t.Error("gitops(nil) named a source")
	}
}
