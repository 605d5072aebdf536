package sourcefix

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/snapshot"
)

// Source is what a workload's definition comes from, and so where a
// change to it must be written to last.
type Source string

// Sources, in the order Detect prefers them when an object shows several.
const (
	// SourceKustomize: an overlay configured in purser.yaml.
	SourceKustomize Source = "kustomize"
	// SourceArgoCD: an Argo CD Application syncs it from Git.
	SourceArgoCD Source = "argocd"
	// SourceFlux: a Flux Kustomization or HelmRelease syncs it.
	SourceFlux Source = "flux"
	// SourceHelm: a Helm release installed it.
	SourceHelm Source = "helm"
	// SourceNone: nothing known owns it; the cluster is the source.
	SourceNone Source = "none"
)

// Label and annotation keys that tell who manages an object.
const (
	annHelmRelease   = "meta.helm.sh/release-name"
	annHelmNamespace = "meta.helm.sh/release-namespace"
	labelManagedBy   = "app.kubernetes.io/managed-by"
	labelInstance    = "app.kubernetes.io/instance"
	labelHelmChart   = "helm.sh/chart"
	annArgoTracking  = "argocd.argoproj.io/tracking-id"
	labelFluxKsName  = "kustomize.toolkit.fluxcd.io/name"
	labelFluxKsNS    = "kustomize.toolkit.fluxcd.io/namespace"
	labelFluxHRName  = "helm.toolkit.fluxcd.io/name"
	labelFluxHRNS    = "helm.toolkit.fluxcd.io/namespace"
)

// Owner is who owns a workload's definition.
type Owner struct {
	Source Source `json:"source"`
	// Workload is the top of the controller chain the change was aimed
	// at: a Pod's Deployment through its ReplicaSet, a Job's CronJob.
	Workload snapshot.Ref `json:"workload"`
	// Overlay is the kustomize overlay directory (SourceKustomize).
	Overlay string `json:"overlay,omitempty"`
	// Helm names the release that installed or renders the workload,
	// also for a GitOps source that renders a chart.
	Helm *HelmRelease `json:"helm,omitempty"`
	// Manager names the GitOps object that syncs the workload
	// ("Argo CD Application argocd/shop"), for SourceArgoCD and SourceFlux.
	Manager string `json:"manager,omitempty"`
	// Evidence lists the labels, annotations and settings that led here.
	Evidence []string `json:"evidence"`
}

// HelmRelease is a Helm release as the workload's metadata names it.
type HelmRelease struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Chart is the helm.sh/chart label ("web-1.2.0"), when set.
	Chart string `json:"chart,omitempty"`
}

// Detect finds the owner of the workload ref names (any object of its
// controller chain: a Pod, its ReplicaSet or the Deployment). A kustomize
// overlay configured for the workload wins, since the user said so; then
// a GitOps controller, since anything else it would revert; then Helm;
// else nothing owns it.
func Detect(ix *snapshot.Index, cfg Config, ref snapshot.Ref) Owner {
	top := ix.Workload(ref)
	o := Owner{Source: SourceNone, Workload: top}
	obj := ix.Object(top)
	var labels, anns map[string]string
	if obj != nil {
		labels, anns = obj.GetLabels(), obj.GetAnnotations()
	}
	if top != ref {
		o.Evidence = append(o.Evidence, fmt.Sprintf("%s is controlled by %s", ref, top))
	}
	o.Helm = helmRelease(top, labels, anns, &o.Evidence)

	gitops := SourceNone
	if m, ev, ok := argoCD(ix, obj, labels, anns); ok {
		gitops, o.Manager = SourceArgoCD, m
		o.Evidence = append(o.Evidence, ev)
	} else if m, ev, ok := flux(labels); ok {
		gitops, o.Manager = SourceFlux, m
		o.Evidence = append(o.Evidence, ev)
	}
	if p, ok := cfg.KustomizeOverlay(top.Namespace, top.Kind, top.Name); ok {
		o.Source, o.Overlay = SourceKustomize, p
		o.Evidence = append(o.Evidence, "purser.yaml sources.kustomize names the overlay "+p)
		return o
	}
	if gitops != SourceNone {
		o.Source = gitops
		return o
	}
	if o.Helm != nil {
		o.Source = SourceHelm
	}
	return o
}

// helmRelease reads the release from Helm's ownership annotations (Helm
// 3.2 and later set them on every object it installs), else from the
// conventional labels of a chart, which also name a release that Argo CD
// or Flux render with `helm template`.
func helmRelease(top snapshot.Ref, labels, anns map[string]string, ev *[]string) *HelmRelease {
	if name := anns[annHelmRelease]; name != "" {
		ns := anns[annHelmNamespace]
		if ns == "" {
			ns = top.Namespace
		}
		*ev = append(*ev, fmt.Sprintf("annotations %s=%s, %s=%s", annHelmRelease, name, annHelmNamespace, ns))
		return &HelmRelease{Namespace: ns, Name: name, Chart: labels[labelHelmChart]}
	}
	if labels[labelManagedBy] == "Helm" || labels[labelHelmChart] != "" {
		h := &HelmRelease{Namespace: top.Namespace, Name: labels[labelInstance], Chart: labels[labelHelmChart]}
		*ev = append(*ev, fmt.Sprintf("labels %s=%s, %s=%s (no release annotations: the release is the %s label)",
			labelManagedBy, labels[labelManagedBy], labelHelmChart, labels[labelHelmChart], labelInstance))
		return h
	}
	return nil
}

// argoCD reads Argo CD's tracking: the tracking-id annotation (annotation
// tracking) or, with label tracking, app.kubernetes.io/instance naming an
// Application the snapshot holds (the label alone is too common to mean
// Argo CD).
func argoCD(ix *snapshot.Index, obj metav1.Object, labels, anns map[string]string) (string, string, bool) {
	if id := anns[annArgoTracking]; id != "" {
		// "<app>:<group>/<kind>:<namespace>/<name>", the app written
		// "<namespace>_<name>" when Applications live outside argocd.
		app, _, _ := strings.Cut(id, ":")
		ns := "argocd"
		if n, a, ok := strings.Cut(app, "_"); ok {
			ns, app = n, a
		}
		return "Argo CD Application " + ns + "/" + app, "annotation " + annArgoTracking + "=" + id, true
	}
	inst := labels[labelInstance]
	if obj == nil || inst == "" {
		return "", "", false
	}
	for _, r := range ix.S.Others {
		if r.Kind == "Application" && r.Group == "argoproj.io" && r.Name == inst {
			return "Argo CD Application " + r.Namespace + "/" + r.Name,
				fmt.Sprintf("label %s=%s names the Application %s/%s", labelInstance, inst, r.Namespace, r.Name), true
		}
	}
	return "", "", false
}

// flux reads the labels Flux's controllers set on what they apply.
func flux(labels map[string]string) (string, string, bool) {
	if n := labels[labelFluxHRName]; n != "" {
		return "Flux HelmRelease " + labels[labelFluxHRNS] + "/" + n,
			fmt.Sprintf("labels %s=%s, %s=%s", labelFluxHRName, n, labelFluxHRNS, labels[labelFluxHRNS]), true
	}
	if n := labels[labelFluxKsName]; n != "" {
		return "Flux Kustomization " + labels[labelFluxKsNS] + "/" + n,
			fmt.Sprintf("labels %s=%s, %s=%s", labelFluxKsName, n, labelFluxKsNS, labels[labelFluxKsNS]), true
	}
	return "", "", false
}
