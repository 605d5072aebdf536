package sourcefix

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"

	"github.com/purserhq/purser/internal/snapshot"
)

func TestDetect(t *testing.T) {
	t.Parallel()
	app := snapshot.ObjectRef{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application", Namespace: "argocd", Name: "shop"}
	tests := []struct {
		name    string
		labels  map[string]string
		anns    map[string]string
		others  []snapshot.ObjectRef
		cfg     Config
		ref     string // "Pod", "ReplicaSet" or "Deployment": which object the change names
		source  Source
		manager string
		release string
		overlay string
	}{
		{name: "nothing", source: SourceNone},
		{name: "helm annotations, from the Pod", ref: "Pod", anns: map[string]string{annHelmRelease: "web", annHelmNamespace: "apps"},
			labels: map[string]string{labelManagedBy: "Helm", labelHelmChart: "web-1.2.0"}, source: SourceHelm, release: "apps/web"},
		{name: "helm labels only", ref: "ReplicaSet", labels: map[string]string{labelManagedBy: "Helm", labelInstance: "web"}, source: SourceHelm, release: "shop/web"},
		{name: "argo tracking id", anns: map[string]string{annArgoTracking: "shop:apps/Deployment:shop/api"}, source: SourceArgoCD, manager: "Argo CD Application argocd/shop"},
		{name: "argo tracking id, app in another namespace", anns: map[string]string{annArgoTracking: "team-a_shop:apps/Deployment:shop/api"}, source: SourceArgoCD, manager: "Argo CD Application team-a/shop"},
		{name: "argo instance label with the Application", labels: map[string]string{labelInstance: "shop"}, others: []snapshot.ObjectRef{app}, source: SourceArgoCD, manager: "Argo CD Application argocd/shop"},
		{name: "instance label without an Application", labels: map[string]string{labelInstance: "shop"}, source: SourceNone},
		{name: "argo renders a chart", labels: map[string]string{labelManagedBy: "Helm", labelHelmChart: "web-1.2.0", labelInstance: "shop"}, others: []snapshot.ObjectRef{app},
			source: SourceArgoCD, manager: "Argo CD Application argocd/shop", release: "shop/shop"},
		{name: "flux kustomization", labels: map[string]string{labelFluxKsName: "apps", labelFluxKsNS: "flux-system"}, source: SourceFlux, manager: "Flux Kustomization flux-system/apps"},
		{name: "flux helmrelease over helm annotations", labels: map[string]string{labelFluxHRName: "web", labelFluxHRNS: "shop"}, anns: map[string]string{annHelmRelease: "shop-web", annHelmNamespace: "shop"},
			source: SourceFlux, manager: "Flux HelmRelease shop/web", release: "shop/shop-web"},
		{name: "kustomize from config", ref: "Pod", cfg: Config{Kustomize: map[string]string{"shop/api": "deploy/prod"}}, source: SourceKustomize, overlay: "deploy/prod"},
		{name: "kustomize key with the kind wins", cfg: Config{Kustomize: map[string]string{"shop/api": "a", "shop/Deployment/api": "b"}}, source: SourceKustomize, overlay: "b"},
		{name: "kustomize key of another kind", cfg: Config{Kustomize: map[string]string{"shop/StatefulSet/api": "b"}}, source: SourceNone},
		{name: "kustomize over argo", anns: map[string]string{annArgoTracking: "shop:apps/Deployment:shop/api"}, cfg: Config{Kustomize: map[string]string{"shop/api": "o"}},
			source: SourceKustomize, overlay: "o", manager: "Argo CD Application argocd/shop"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &snapshot.Snapshot{Others: tc.others}
			withChain(s, deployment(meta("shop", "api", tc.labels, tc.anns), container("api", res(nil, nil))))
			ref := snapshot.Ref{Kind: "Deployment", Namespace: "shop", Name: "api"}
			switch tc.ref {
			case "Pod":
				ref = snapshot.Ref{Kind: "Pod", Namespace: "shop", Name: "api-7d9f-x2x4q"}
			case "ReplicaSet":
				ref = snapshot.Ref{Kind: "ReplicaSet", Namespace: "shop", Name: "api-7d9f"}
			}
			o := Detect(snapshot.NewIndex(s), tc.cfg, ref)
			if o.Workload != (snapshot.Ref{Kind: "Deployment", Namespace: "shop", Name: "api"}) {
				t.Errorf("workload %v", o.Workload)
			}
			release := ""
			if o.Helm != nil {
				release = o.Helm.Namespace + "/" + o.Helm.Name
			}
			if o.Source != tc.source || o.Manager != tc.manager || release != tc.release || o.Overlay != tc.overlay {
				t.Errorf("got source %s, manager %q, release %q, overlay %q; want %s, %q, %q, %q (evidence %q)",
					o.Source, o.Manager, release, o.Overlay, tc.source, tc.manager, tc.release, tc.overlay, o.Evidence)
			}
			if tc.source != SourceNone && len(o.Evidence) == 0 {
				t.Error("no evidence")
			}
		})
	}
}

// TestDetectCronJob walks a Job up to its CronJob.
func TestDetectCronJob(t *testing.T) {
	t.Parallel()
	cj, j := cronJob(meta("ops", "report", map[string]string{labelFluxKsName: "ops", labelFluxKsNS: "flux-system"}, nil), container("report", res(nil, nil)))
	s := &snapshot.Snapshot{CronJobs: []batchv1.CronJob{cj}, Jobs: []batchv1.Job{j}}
	o := Detect(snapshot.NewIndex(s), Config{}, snapshot.Ref{Kind: "Job", Namespace: "ops", Name: j.Name})
	if o.Workload.Kind != "CronJob" || o.Workload.Name != "report" || o.Source != SourceFlux {
		t.Errorf("owner %+v", o)
	}
}

// TestGitOpsNoSilentPatch: a workload Argo CD or Flux syncs, whose source
// Purser does not know, gets no kubectl command to run, only a manual one
// that says it will be reverted, and the patch for its Git source.
func TestGitOpsNoSilentPatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		labels, anns map[string]string
		manager      string
	}{
		{"argo", nil, map[string]string{annArgoTracking: "shop:apps/Deployment:shop/api"}, "Argo CD Application argocd/shop"},
		{"flux", map[string]string{labelFluxKsName: "apps", labelFluxKsNS: "flux-system"}, nil, "Flux Kustomization flux-system/apps"},
		{"argo over helm", map[string]string{labelManagedBy: "Helm"}, map[string]string{annArgoTracking: "shop:apps/Deployment:shop/api", annHelmRelease: "shop"}, "Argo CD Application argocd/shop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &snapshot.Snapshot{}
			withChain(s, deployment(meta("shop", "api", tc.labels, tc.anns), container("api", res(map[string]string{"cpu": "1"}, nil))))
			r, err := Build(context.Background(), snapshot.NewIndex(s), []Change{{Namespace: "shop", Kind: "Deployment", Name: "api", Container: "api",
				Resources: res(map[string]string{"cpu": "200m"}, nil)}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			f := r.Fixes[0]
			if f.Method != MethodGitSource || f.Command != "" || f.Manual == "" {
				t.Fatalf("method %s, command %q, manual %q", f.Method, f.Command, f.Manual)
			}
			notes := strings.Join(f.Notes, "\n")
			if !strings.Contains(notes, "reverted by "+tc.manager) || !strings.Contains(notes, tc.manager+" syncs Deployment/shop/api") {
				t.Errorf("notes %q do not name %s", notes, tc.manager)
			}
			script := string(fileData(t, r, CommandsFile))
			for _, l := range strings.Split(script, "\n") {
				if strings.Contains(l, "kubectl") && !strings.HasPrefix(l, "#") {
					t.Errorf("commands.sh runs %q", l)
				}
			}
			if !strings.Contains(script, "# manual only: kubectl patch deployment api") {
				t.Errorf("commands.sh does not show the manual command:\n%s", script)
			}
			// The manual command is a real patch: its body changes the container.
			i := strings.Index(f.Manual, "--patch '")
			var body map[string]any
			if i < 0 || json.Unmarshal([]byte(strings.TrimSuffix(f.Manual[i+len("--patch '"):], "'")), &body) != nil {
				t.Errorf("manual command %q has no JSON patch", f.Manual)
			}
			fileData(t, r, "git/shop/deployment-api/patch.yaml")
		})
	}
}
