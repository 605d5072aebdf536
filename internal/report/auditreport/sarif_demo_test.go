package auditreport

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/golden"
)

// demoAuditOf audits s with the demo's config, offline, as `purser audit
// --demo` does.
func demoAuditOf(t *testing.T, s *snapshot.Snapshot) (*audit.Result, *snapshot.Index) {
	t.Helper()
	ctx := context.Background()
	cfg, err := action.LoadConfig("", true)
	if err != nil {
		t.Fatal(err)
	}
	env, err := action.NewEnvFor(ctx, s, cfg, action.PriceOptions{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := action.Audit{}.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	return res, env.Index
}

func demoSnapshot(t *testing.T) *snapshot.Snapshot {
	t.Helper()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The demo's SARIF: a live snapshot, so every result is located on the
// synthetic URI of its workload; the golden is checked against the
// schema by TestSARIFGoldensMatchSchema.
func TestSARIFDemoGolden(t *testing.T) {
	t.Parallel()
	res, ix := demoAuditOf(t, demoSnapshot(t))
	out := sarifBytes(t, res, ix)
	golden.Assert(t, filepath.Join("testdata", "demo.sarif.json"), out)
	validateSARIF(t, sarifSchema(t), "the demo's SARIF", out)

	d := parseSARIF(t, out)
	if len(d.Runs[0].Results) != len(res.Findings) || len(res.Findings) == 0 {
		t.Fatalf("%d results for %d findings", len(d.Runs[0].Results), len(res.Findings))
	}
	if got := d.Runs[0].AutomationDetails.ID; got != "purser/demo%3Ablueocean/" {
		t.Errorf("automationDetails.id = %q", got)
	}
	helm := 0
	for i, r := range d.Runs[0].Results {
		if len(r.Locations) == 0 {
			t.Errorf("result %d (%s) has no location", i, r.RuleID)
			continue
		}
		pl := r.Locations[0].PhysicalLocation
		if !strings.HasPrefix(pl.ArtifactLocation.URI, "kubernetes:///demo%3Ablueocean/") || pl.Region.StartLine < 1 {
			t.Errorf("result %d (%s): artifact location %+v, want a synthetic URI with a start line", i, r.RuleID, pl)
		}
		if g := r.Locations[0].Properties.GitOps; g != nil && g.Tool == "helm" {
			helm++
		}
		if len(r.PartialFingerprints["purser/v1"]) != 64 {
			t.Errorf("result %d (%s): fingerprint %v", i, r.RuleID, r.PartialFingerprints)
		}
	}
	if helm == 0 {
		t.Error("no result names its Helm release, though the demo installs charts")
	}
}

// rollout simulates `kubectl rollout restart` of every Deployment of s
// that has pods: a new ReplicaSet (new template hash, name and UID) takes
// the pods, which get new names and UIDs; the old ReplicaSet stays,
// scaled to zero, as the Deployment controller leaves it. Events and
// endpoints follow the pods. It returns how many pods were renamed.
func rollout(s *snapshot.Snapshot) int {
	rsByUID := map[types.UID]int{}
	for i := range s.ReplicaSets {
		rsByUID[s.ReplicaSets[i].UID] = i
	}
	newRS := map[types.UID]appsv1.ReplicaSet{} // old ReplicaSet UID -> its successor
	renamed := map[string]metav1.ObjectMeta{}  // namespace/old pod name -> new pod meta
	for i := range s.Pods {
		p := &s.Pods[i]
		c := metav1.GetControllerOf(p)
		if c == nil || c.Kind != "ReplicaSet" {
			continue
		}
		ri, ok := rsByUID[c.UID]
		if !ok {
			continue
		}
		old := &s.ReplicaSets[ri]
		next, ok := newRS[old.UID]
		if !ok {
			owner := metav1.GetControllerOf(old)
			if owner == nil || owner.Kind != "Deployment" {
				continue
			}
			hash := "r" + old.Labels["pod-template-hash"]
			next = *old.DeepCopy()
			next.Name = owner.Name + "-" + hash
			next.UID = "rollout-" + old.UID
			next.Labels["pod-template-hash"] = hash
			next.Spec.Template.Labels["pod-template-hash"] = hash
			if next.Spec.Selector != nil && next.Spec.Selector.MatchLabels != nil {
				next.Spec.Selector.MatchLabels["pod-template-hash"] = hash
			}
			newRS[old.UID] = next
		}
		before := p.ObjectMeta
		p.Name = next.Name + "-" + strings.TrimPrefix(p.Name, old.Name+"-") + "z"
		p.UID = "rollout-" + p.UID
		p.GenerateName = next.Name + "-"
		p.Labels["pod-template-hash"] = next.Labels["pod-template-hash"]
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: next.Name, UID: next.UID,
			Controller: c.Controller, BlockOwnerDeletion: c.BlockOwnerDeletion}}
		renamed[before.Namespace+"/"+before.Name] = p.ObjectMeta
	}
	for i := range s.ReplicaSets {
		if _, ok := newRS[s.ReplicaSets[i].UID]; ok {
			zero := int32(0)
			s.ReplicaSets[i].Spec.Replicas = &zero
			s.ReplicaSets[i].Status = appsv1.ReplicaSetStatus{ObservedGeneration: s.ReplicaSets[i].Status.ObservedGeneration}
		}
	}
	for _, uid := range slices.Sorted(func(yield func(types.UID) bool) {
		for k := range newRS {
			if !yield(k) {
				return
			}
		}
	}) {
		s.ReplicaSets = append(s.ReplicaSets, newRS[uid])
	}
	for i := range s.Events {
		o := &s.Events[i].InvolvedObject
		if m, ok := renamed[o.Namespace+"/"+o.Name]; ok && o.Kind == "Pod" {
			o.Name, o.UID = m.Name, m.UID
		}
	}
	for i := range s.EndpointSlices {
		for j := range s.EndpointSlices[i].Endpoints {
			ref := s.EndpointSlices[i].Endpoints[j].TargetRef
			if ref == nil || ref.Kind != "Pod" {
				continue
			}
			if m, ok := renamed[ref.Namespace+"/"+ref.Name]; ok {
				ref.Name, ref.UID = m.Name, m.UID
			}
		}
	}
	return len(renamed)
}

// The fingerprints of the demo's findings are the same before and after a
// rollout of its Deployments, though the pods they are about have new
// names: code scanning keeps one alert per problem, not one per rollout.
func TestSARIFFingerprintsSurviveRollout(t *testing.T) {
	t.Parallel()
	before := demoSnapshot(t)
	after := demoSnapshot(t)
	if n := rollout(after); n == 0 {
		t.Fatal("the rollout renamed no pod")
	}
	resBefore, ixBefore := demoAuditOf(t, before)
	resAfter, ixAfter := demoAuditOf(t, after)
	prints := func(res *audit.Result, ix *snapshot.Index) (all []string, podNames []string) {
		d := parseSARIF(t, sarifBytes(t, res, ix))
		for i, r := range d.Runs[0].Results {
			all = append(all, r.RuleID+" "+r.PartialFingerprints["purser/v1"]+" "+r.Locations[0].PhysicalLocation.ArtifactLocation.URI)
			if f := res.Findings[i]; f.Object.Kind == "Pod" {
				podNames = append(podNames, fmt.Sprintf("%s %s", f.CheckID, f.Object))
			}
		}
		slices.Sort(all)
		slices.Sort(podNames)
		return all, podNames
	}
	fpBefore, podsBefore := prints(resBefore, ixBefore)
	fpAfter, podsAfter := prints(resAfter, ixAfter)
	if len(podsBefore) == 0 {
		t.Fatal("the demo has no finding about a pod: the rollout changes nothing the fingerprints could miss")
	}
	// The rollout did change what the findings are about.
	if slices.Equal(podsBefore, podsAfter) {
		t.Fatalf("the findings name the same pods after the rollout: %v", podsAfter)
	}
	if !slices.Equal(fpBefore, fpAfter) {
		t.Errorf("fingerprints or locations changed across the rollout:\nbefore %d: %s\nafter %d: %s",
			len(fpBefore), strings.Join(diff(fpBefore, fpAfter), "\n  "), len(fpAfter), strings.Join(diff(fpAfter, fpBefore), "\n  "))
	}
}

// diff lists what a holds that b does not.
func diff(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
