package govern

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	kusttypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/manifest"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/snapshot"
)

// The repository tree's top directories.
const (
	ClustersDir       = "clusters"
	ApplicationsDir   = "applications"
	PlatformDir       = "platform"
	PoliciesDir       = "policies"
	kustomizationFile = "kustomization.yaml"
)

// Defaults of govern.gitops.
const (
	PlaceholderRepoURL   = "https://git.example.com/infrastructure.git"
	DefaultArgoNamespace = "argocd"
	inClusterServer      = "https://kubernetes.default.svc"
)

// GitOpsResult is the repository tree, in memory, and what it holds.
type GitOpsResult struct {
	Files []manifest.File
	// Cluster is the directory under clusters/.
	Cluster string
	Apps    []GitOpsApp
	// Platform are the namespaces of the shared environments, under
	// platform/.
	Platform []string
	// Applications are the Argo CD Applications' names, sorted.
	Applications []string
	// Secrets are the Secrets the tree does not hold ("namespace/name
	// (type)"): their values must reach the cluster another way.
	Secrets []string
	// Objects are, per namespace, the objects ("Kind/name") the tree
	// holds for it, in its base or its overlay.
	Objects map[string][]string
	Overuse []Overuse
	Notes   []string
}

// GitOpsApp is one application: its base and an overlay per environment.
type GitOpsApp struct {
	Name string
	// Base are the objects ("Kind/name") every namespace of the app holds
	// identically.
	Base     []string
	Overlays []GitOpsOverlay
}

// GitOpsOverlay is one environment of an application.
type GitOpsOverlay struct {
	Environment string
	Namespaces  []string
	// Dir is the overlay's directory in the tree.
	Dir string
}

// gobj is one object of a namespace, cleaned, as a file.
type gobj struct {
	kind, name string
	file       string
	data       []byte
}

// GitOps writes the strategy's Phase 3 repository from the cluster as it
// is:
//
//	clusters/<cluster>/        Argo CD Applications, one kustomization (app of apps)
//	applications/<app>/base/   what every namespace of the app holds identically
//	applications/<app>/overlays/<env>/   the rest, per environment, with its namespace
//	platform/<namespace>/      the shared environments' namespaces
//	policies/{namespaces,networkpolicies,quotas,rbac}/   the other generators' output
//
// Apps are classify's products (a namespace without one is an app of its
// own name); environments are classify's. Objects are cleaned of what the
// API server sets. Secrets are never written: their values are not in the
// snapshot and must not be in a repository; the README lists them.
func GitOps(in Input) (*GitOpsResult, error) {
	cfg := in.Config.withDefaults()
	g := cfg.GitOps
	ix := in.Index
	res := &GitOpsResult{Cluster: gitopsCluster(g, ix.S.Meta.Context)}
	if g.RepoURL == "" {
		g.RepoURL = PlaceholderRepoURL
		res.Notes = append(res.Notes, "govern.gitops.repoURL is not set: the Applications read "+PlaceholderRepoURL+"; set it to the repository this tree is pushed to")
	}
	if g.Revision == "" {
		g.Revision = "HEAD"
	}
	if g.ArgoNamespace == "" {
		g.ArgoNamespace = DefaultArgoNamespace
	}
	if g.Project == "" {
		g.Project = "default"
	}
	if g.Server == "" {
		g.Server = inClusterServer
	}

	objs, secrets, binary, err := namespaceObjects(ix)
	if err != nil {
		return nil, err
	}
	res.Secrets = secrets
	res.Objects = map[string][]string{}
	keep := func(ns string) {
		for _, o := range objs[ns] {
			res.Objects[ns] = append(res.Objects[ns], o.kind+"/"+o.name)
		}
	}
	var files []manifest.File
	add := func(p string, data []byte) { files = append(files, manifest.File{Path: p, Data: data}) }

	// Sort namespaces into apps and platform.
	apps := map[string]map[string][]string{} // app -> environment -> namespaces
	var unclassified, empty, ownName []string
	for i := range ix.S.Namespaces {
		ns := &ix.S.Namespaces[i]
		if slices.Contains(systemNamespaces(), ns.Name) || ns.Name == metav1.NamespaceDefault {
			continue
		}
		if len(objs[ns.Name]) == 0 {
			empty = append(empty, ns.Name)
			continue
		}
		env := in.Classify.Environment(ns)
		switch {
		case env == classify.Unassigned:
			unclassified = append(unclassified, ns.Name)
		case slices.Contains(cfg.NetworkPolicies.Shared, env):
			res.Platform = append(res.Platform, ns.Name)
			keep(ns.Name)
		default:
			keep(ns.Name)
			app := in.Classify.Product(ns.Name)
			if app == "" {
				app = ns.Name
				ownName = append(ownName, ns.Name)
			}
			if apps[app] == nil {
				apps[app] = map[string][]string{}
			}
			apps[app][env] = append(apps[app][env], ns.Name)
		}
	}
	slices.Sort(res.Platform)
	slices.Sort(unclassified)
	slices.Sort(empty)
	if len(unclassified) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d namespaces have no environment and are left out (classify them to include them): %s",
			len(unclassified), strings.Join(unclassified, ", ")))
	}
	if len(ownName) > 0 {
		slices.Sort(ownName)
		res.Notes = append(res.Notes, fmt.Sprintf("%d namespaces match no classify product and are applications of their own name: %s",
			len(ownName), strings.Join(ownName, ", ")))
	}
	if len(empty) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d namespaces hold nothing to deploy and are left out: %s", len(empty), strings.Join(empty, ", ")))
	}
	for _, b := range binary {
		if ns, _, _ := strings.Cut(b, "/"); slices.Contains(systemNamespaces(), ns) || ns == metav1.NamespaceDefault {
			continue
		}
		res.Notes = append(res.Notes, "ConfigMap "+b+" has binaryData, which the snapshot does not keep: it is left out")
	}

	appNames := sortedKeys(apps)
	var applications []argoApplication
	for _, app := range appNames {
		envs := apps[app]
		var all []string
		for _, e := range sortedKeys(envs) {
			slices.Sort(envs[e])
			all = append(all, envs[e]...)
		}
		base := commonFiles(objs, all)
		ga := GitOpsApp{Name: app}
		appDir := path.Join(ApplicationsDir, manifest.SafeName(app))
		var baseFiles []string
		for _, o := range objs[all[0]] {
			if base[o.file] {
				ga.Base = append(ga.Base, o.kind+"/"+o.name)
				baseFiles = append(baseFiles, o.file)
				add(path.Join(appDir, "base", o.file), o.data)
			}
		}
		k, err := kustomization("application "+app+": what each of its namespaces holds alike", "", baseFiles)
		if err != nil {
			return nil, err
		}
		add(path.Join(appDir, "base", kustomizationFile), k)
		for _, env := range sortedKeys(envs) {
			nss := envs[env]
			dir := path.Join(appDir, "overlays", manifest.SafeName(env))
			ov := GitOpsOverlay{Environment: env, Namespaces: nss, Dir: dir}
			if len(nss) == 1 {
				if err := namespaceUnit(add, dir, "../../base", nss[0], objs[nss[0]], base, "application "+app+", environment "+env); err != nil {
					return nil, err
				}
			} else {
				var dirs []string
				for _, ns := range nss {
					sub := manifest.SafeName(ns)
					dirs = append(dirs, sub)
					if err := namespaceUnit(add, path.Join(dir, sub), "../../../base", ns, objs[ns], base, "application "+app+", environment "+env); err != nil {
						return nil, err
					}
				}
				k, err := kustomization("application "+app+", environment "+env+": namespaces "+strings.Join(nss, ", "), "", dirs)
				if err != nil {
					return nil, err
				}
				add(path.Join(dir, kustomizationFile), k)
			}
			ga.Overlays = append(ga.Overlays, ov)
			destNS := ""
			if len(nss) == 1 {
				destNS = nss[0]
			}
			applications = append(applications, newApplication(g, appName(app, env), dir, destNS,
				fmt.Sprintf("application %s in environment %s (namespaces %s)", app, env, strings.Join(nss, ", "))))
		}
		res.Apps = append(res.Apps, ga)
	}

	if len(res.Platform) > 0 {
		var dirs []string
		for _, ns := range res.Platform {
			sub := manifest.SafeName(ns)
			dirs = append(dirs, sub)
			if err := namespaceUnit(add, path.Join(PlatformDir, sub), "", ns, objs[ns], nil, "shared services"); err != nil {
				return nil, err
			}
		}
		k, err := kustomization("the shared environments' namespaces ("+strings.Join(cfg.NetworkPolicies.Shared, ", ")+")", "", dirs)
		if err != nil {
			return nil, err
		}
		add(path.Join(PlatformDir, kustomizationFile), k)
		applications = append(applications, newApplication(g, "platform", PlatformDir, "", "the shared services"))
	}

	policyFiles, err := policies(in, res)
	if err != nil {
		return nil, err
	}
	files = append(files, policyFiles...)
	applications = append(applications, newApplication(g, "policies", PoliciesDir, "",
		"guardrails: namespace labels, NetworkPolicies, quotas and RBAC generated by purser"))

	// The Applications, and the kustomization that installs them all.
	clusterDir := path.Join(ClustersDir, res.Cluster)
	var appFiles []string
	seen := map[string]bool{}
	for _, a := range applications {
		if seen[a.Metadata.Name] {
			return nil, fmt.Errorf("gitops: two Argo CD Applications would be named %s: rename a product or an environment", a.Metadata.Name)
		}
		seen[a.Metadata.Name] = true
		res.Applications = append(res.Applications, a.Metadata.Name)
		data, err := yaml.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("gitops: encoding Application %s: %w", a.Metadata.Name, err)
		}
		f := manifest.FileName("Application", a.Metadata.Name)
		appFiles = append(appFiles, f)
		add(path.Join(clusterDir, f), data)
	}
	slices.Sort(res.Applications)
	k, err := kustomization("the Argo CD Applications of cluster "+res.Cluster+"; install them with kubectl apply -k "+clusterDir, "", appFiles)
	if err != nil {
		return nil, err
	}
	add(path.Join(clusterDir, kustomizationFile), k)
	add("README.md", readme(res, g))
	res.Files = files
	return res, nil
}

// namespaceUnit writes the objects of one namespace that are not in its
// base, and a kustomization that puts the base and them in the namespace.
func namespaceUnit(add func(string, []byte), dir, base, ns string, objs []gobj, inBase map[string]bool, what string) error {
	var resources []string
	if base != "" {
		resources = append(resources, base)
	}
	for _, o := range objs {
		if inBase[o.file] {
			continue
		}
		resources = append(resources, o.file)
		add(path.Join(dir, o.file), o.data)
	}
	k, err := kustomization(what+": namespace "+ns, ns, resources)
	if err != nil {
		return err
	}
	add(path.Join(dir, kustomizationFile), k)
	return nil
}

// commonFiles returns the files every namespace of nss holds with the
// same content: the app's base.
func commonFiles(objs map[string][]gobj, nss []string) map[string]bool {
	common := map[string][]byte{}
	for _, o := range objs[nss[0]] {
		common[o.file] = o.data
	}
	for _, ns := range nss[1:] {
		here := map[string][]byte{}
		for _, o := range objs[ns] {
			here[o.file] = o.data
		}
		for f, data := range common {
			if !bytes.Equal(here[f], data) {
				delete(common, f)
			}
		}
	}
	out := map[string]bool{}
	for f := range common {
		out[f] = true
	}
	return out
}

// namespaceObjects lists, per namespace, the top-level objects a
// repository should hold, cleaned and without their namespace (the
// kustomization sets it). Children of controllers are left out (their
// controllers make them), and so is what Kubernetes creates in every
// namespace. Secrets are only named; ConfigMaps with binary data, whose
// bytes the snapshot drops, too.
func namespaceObjects(ix *snapshot.Index) (objs map[string][]gobj, secrets, binary []string, err error) {
	s := ix.S
	objs = map[string][]gobj{}
	autoscaled := map[string]bool{}
	for i := range s.HPAs {
		h := &s.HPAs[i]
		if r := h.Spec.ScaleTargetRef; strings.HasPrefix(r.APIVersion, "apps/") {
			autoscaled[r.Kind+"/"+h.Namespace+"/"+r.Name] = true
		}
	}
	add := func(apiVersion, kind string, o interface {
		metav1.Object
		runtime.Object
	}) error {
		if snapshot.IsDefaultObject(kind, o) || metav1.GetControllerOf(o) != nil {
			return nil
		}
		u, err := manifest.Clean(o, apiVersion, kind)
		if err != nil {
			return err
		}
		u.SetNamespace("")
		if autoscaled[kind+"/"+o.GetNamespace()+"/"+o.GetName()] {
			// The autoscaler owns the replicas: a repository that sets
			// them would reset its scaling at every sync.
			unstructured.RemoveNestedField(u.Object, "spec", "replicas")
		}
		data, err := yaml.Marshal(u.Object)
		if err != nil {
			return fmt.Errorf("gitops: encoding %s %s/%s: %w", kind, o.GetNamespace(), o.GetName(), err)
		}
		objs[o.GetNamespace()] = append(objs[o.GetNamespace()], gobj{kind: kind, name: o.GetName(), file: manifest.FileName(kind, o.GetName()), data: data})
		return nil
	}
	for i := range s.Secrets {
		sec := &s.Secrets[i]
		if snapshot.IsDefaultObject("Secret", sec) || sec.Type == corev1.SecretTypeServiceAccountToken || metav1.GetControllerOf(sec) != nil {
			continue
		}
		secrets = append(secrets, fmt.Sprintf("%s/%s (%s)", sec.Namespace, sec.Name, sec.Type))
	}
	slices.Sort(secrets)
	for i := range s.ConfigMaps {
		c := &s.ConfigMaps[i]
		if len(c.BinaryData) > 0 {
			binary = append(binary, c.Namespace+"/"+c.Name)
			continue
		}
		err = errors.Join(err, add("v1", "ConfigMap", c))
	}
	for i := range s.ServiceAccounts {
		err = errors.Join(err, add("v1", "ServiceAccount", &s.ServiceAccounts[i]))
	}
	for i := range s.PVCs {
		if claimOfStatefulSet(s, &s.PVCs[i]) {
			continue // the StatefulSet's volumeClaimTemplates make it
		}
		err = errors.Join(err, add("v1", "PersistentVolumeClaim", &s.PVCs[i]))
	}
	for i := range s.Services {
		err = errors.Join(err, add("v1", "Service", &s.Services[i]))
	}
	for i := range s.Pods {
		err = errors.Join(err, add("v1", "Pod", &s.Pods[i]))
	}
	for i := range s.ResourceQuotas {
		err = errors.Join(err, add("v1", "ResourceQuota", &s.ResourceQuotas[i]))
	}
	for i := range s.LimitRanges {
		err = errors.Join(err, add("v1", "LimitRange", &s.LimitRanges[i]))
	}
	for i := range s.Roles {
		err = errors.Join(err, add("rbac.authorization.k8s.io/v1", "Role", &s.Roles[i]))
	}
	for i := range s.RoleBindings {
		err = errors.Join(err, add("rbac.authorization.k8s.io/v1", "RoleBinding", &s.RoleBindings[i]))
	}
	for i := range s.NetworkPolicies {
		err = errors.Join(err, add("networking.k8s.io/v1", "NetworkPolicy", &s.NetworkPolicies[i]))
	}
	for i := range s.Ingresses {
		err = errors.Join(err, add("networking.k8s.io/v1", "Ingress", &s.Ingresses[i]))
	}
	for i := range s.Deployments {
		err = errors.Join(err, add("apps/v1", "Deployment", &s.Deployments[i]))
	}
	for i := range s.StatefulSets {
		err = errors.Join(err, add("apps/v1", "StatefulSet", &s.StatefulSets[i]))
	}
	for i := range s.DaemonSets {
		err = errors.Join(err, add("apps/v1", "DaemonSet", &s.DaemonSets[i]))
	}
	for i := range s.ReplicaSets {
		err = errors.Join(err, add("apps/v1", "ReplicaSet", &s.ReplicaSets[i]))
	}
	for i := range s.CronJobs {
		err = errors.Join(err, add("batch/v1", "CronJob", &s.CronJobs[i]))
	}
	for i := range s.Jobs {
		err = errors.Join(err, add("batch/v1", "Job", &s.Jobs[i]))
	}
	for i := range s.HPAs {
		err = errors.Join(err, add("autoscaling/v2", "HorizontalPodAutoscaler", &s.HPAs[i]))
	}
	for i := range s.PDBs {
		err = errors.Join(err, add("policy/v1", "PodDisruptionBudget", &s.PDBs[i]))
	}
	if err != nil {
		return nil, nil, nil, err
	}
	for ns := range objs {
		slices.SortFunc(objs[ns], func(a, b gobj) int { return strings.Compare(a.file, b.file) })
	}
	return objs, secrets, binary, nil
}

// claimOfStatefulSet reports a claim a StatefulSet made from one of its
// volumeClaimTemplates: <template>-<statefulset>-<ordinal>.
func claimOfStatefulSet(s *snapshot.Snapshot, pvc *corev1.PersistentVolumeClaim) bool {
	for i := range s.StatefulSets {
		sts := &s.StatefulSets[i]
		if sts.Namespace != pvc.Namespace {
			continue
		}
		for _, t := range sts.Spec.VolumeClaimTemplates {
			ordinal, ok := strings.CutPrefix(pvc.Name, t.Name+"-"+sts.Name+"-")
			if ok && ordinal != "" && strings.Trim(ordinal, "0123456789") == "" {
				return true
			}
		}
	}
	return false
}

// policies writes policies/: the other generators' output, each in a
// kustomization of its own.
func policies(in Input, res *GitOpsResult) ([]manifest.File, error) {
	nss, err := Namespaces(in)
	if err != nil {
		return nil, err
	}
	nps, err := NetworkPolicies(in)
	if err != nil {
		return nil, err
	}
	res.Notes = append(res.Notes, nps.Notes...)
	quotas, err := Quotas(in)
	if err != nil {
		return nil, err
	}
	res.Overuse = quotas.Overuse
	rbac, err := RBAC(in)
	if err != nil {
		return nil, err
	}
	res.Notes = append(res.Notes, rbac.Notes...)
	var out []manifest.File
	var dirs []string
	for _, p := range []struct {
		dir, what string
		objs      []Object
	}{
		{"namespaces", "environment and team labels of the namespaces (purser generate namespaces)", NamespaceObjects(nss)},
		{"networkpolicies", "NetworkPolicies (purser generate networkpolicies)", nps.Objects()},
		{"quotas", "ResourceQuotas and their LimitRanges (purser generate quotas)", quotas.Objects()},
		{"rbac", "RoleBindings per environment (purser generate rbac)", rbac.Objects()},
	} {
		files, err := Files(p.objs)
		if err != nil {
			return nil, err
		}
		var resources []string
		for _, f := range files {
			resources = append(resources, f.Path)
			out = append(out, manifest.File{Path: path.Join(PoliciesDir, p.dir, f.Path), Data: f.Data})
		}
		k, err := kustomization(p.what, "", resources)
		if err != nil {
			return nil, err
		}
		out = append(out, manifest.File{Path: path.Join(PoliciesDir, p.dir, kustomizationFile), Data: k})
		dirs = append(dirs, p.dir)
	}
	k, err := kustomization("guardrails generated by purser", "", dirs)
	if err != nil {
		return nil, err
	}
	return append(out, manifest.File{Path: path.Join(PoliciesDir, kustomizationFile), Data: k}), nil
}

// kustomization returns a kustomization of resources in namespace ns
// ("" keeps the resources' own), with a comment saying what it holds.
func kustomization(what, ns string, resources []string) ([]byte, error) {
	if resources == nil {
		// Written out, "resources: []" is a kustomization that builds to
		// nothing; left out, kustomize refuses the file as empty.
		resources = []string{}
	}
	k := map[string]any{"apiVersion": kusttypes.KustomizationVersion, "kind": kusttypes.KustomizationKind, "resources": resources}
	if ns != "" {
		k["namespace"] = ns
	}
	data, err := yaml.Marshal(k)
	if err != nil {
		return nil, fmt.Errorf("gitops: encoding the kustomization of %s: %w", what, err)
	}
	return append([]byte("# Generated by purser generate gitops: "+commentText(what)+"\n"), data...), nil
}

// commentText keeps cluster-supplied names from ending a YAML comment.
func commentText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
}

// argoApplication is the part of an Argo CD Application (argoproj.io/v1alpha1)
// that Purser writes. Argo CD is not a dependency: these fields are
// checked against its CRD's schema in the tests.
type argoApplication struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Metadata   argoMeta    `json:"metadata"`
	Spec       argoAppSpec `json:"spec"`
}

type argoMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type argoAppSpec struct {
	Project     string          `json:"project"`
	Source      argoSource      `json:"source"`
	Destination argoDestination `json:"destination"`
	SyncPolicy  argoSyncPolicy  `json:"syncPolicy"`
}

type argoSource struct {
	RepoURL        string `json:"repoURL"`
	Path           string `json:"path"`
	TargetRevision string `json:"targetRevision"`
}

type argoDestination struct {
	Server    string `json:"server"`
	Namespace string `json:"namespace,omitempty"`
}

type argoSyncPolicy struct {
	SyncOptions []string `json:"syncOptions"`
}

// newApplication deploys one directory of the tree. Sync is manual: the
// first sync of objects that already run is a review, not an automation;
// server-side apply takes over fields without fighting kubectl's
// last-applied annotation, and CreateNamespace stays off since every
// namespace exists and policies/ labels it.
func newApplication(g GitOpsConfig, name, dir, namespace, why string) argoApplication {
	return argoApplication{
		APIVersion: "argoproj.io/v1alpha1", Kind: "Application",
		Metadata: argoMeta{Name: name, Namespace: g.ArgoNamespace, Labels: managedLabels(),
			Annotations: map[string]string{ReasonAnnotation: why}},
		Spec: argoAppSpec{Project: g.Project,
			Source:      argoSource{RepoURL: g.RepoURL, Path: dir, TargetRevision: g.Revision},
			Destination: argoDestination{Server: g.Server, Namespace: namespace},
			SyncPolicy:  argoSyncPolicy{SyncOptions: []string{"ServerSideApply=true", "CreateNamespace=false"}}},
	}
}

// appName is <app>-<env> as an Application name (a DNS subdomain); a
// product or environment name that is not one is folded and given a
// digest.
func appName(app, env string) string {
	n := app + "-" + env
	if len(validation.IsDNS1123Label(n)) == 0 {
		return n
	}
	return foldName(n)
}

func foldName(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	folded := strings.Trim(b.String(), "-")
	if len(folded) > 40 {
		folded = strings.Trim(folded[:40], "-")
	}
	sum := sha256.Sum256([]byte(s))
	if folded == "" {
		return "x-" + hex.EncodeToString(sum[:4])
	}
	return folded + "-" + hex.EncodeToString(sum[:4])
}

// gitopsCluster names the cluster's directory: the config's, else the
// kubeconfig context as a DNS label, else "cluster".
func gitopsCluster(g GitOpsConfig, context string) string {
	switch {
	case g.Cluster != "":
		return g.Cluster
	case context == "":
		return "cluster"
	case len(validation.IsDNS1123Label(context)) == 0:
		return context
	}
	return foldName(context)
}

// readme says what the tree holds, how to install it, and what it left
// out: the Secrets above all.
func readme(res *GitOpsResult, g GitOpsConfig) []byte {
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	clusterDir := path.Join(ClustersDir, res.Cluster)
	line("# Cluster %s, as generated by purser generate gitops", md(res.Cluster))
	line("")
	line("Every directory builds with `kubectl kustomize DIR`. Install the Argo CD Applications with")
	// The namespace and the cluster's directory are DNS labels: nothing to
	// escape in the code span.
	line("`kubectl apply -n %s -k %s` once this tree is pushed to %s (%s).", g.ArgoNamespace, clusterDir, md(g.RepoURL), md(g.Revision))
	line("They sync by hand (no automated sync): review the first diff of each in Argo CD.")
	line("")
	line("| Directory | Holds |")
	line("| --- | --- |")
	line("| `%s/` | the Argo CD Applications: %s |", clusterDir, md(strings.Join(res.Applications, ", ")))
	for _, a := range res.Apps {
		dir := path.Join(ApplicationsDir, manifest.SafeName(a.Name))
		line("| `%s/base/` | %d objects every namespace of %s holds alike |", dir, len(a.Base), md(a.Name))
		for _, o := range a.Overlays {
			line("| `%s/` | environment %s: namespaces %s |", o.Dir, md(o.Environment), md(strings.Join(o.Namespaces, ", ")))
		}
	}
	if len(res.Platform) > 0 {
		line("| `%s/` | the shared services: %s |", PlatformDir, md(strings.Join(res.Platform, ", ")))
	}
	line("| `%s/` | namespace labels, NetworkPolicies, quotas and RBAC |", PoliciesDir)
	line("")
	line("## Secrets")
	line("")
	if len(res.Secrets) == 0 {
		line("The cluster has no Secret of its own.")
	} else {
		line("No Secret is in this tree: their values are not read, and a repository must not hold them. Argo CD")
		line("leaves the live Secrets alone, since it manages only what the tree holds. To manage one here, seal it")
		line("(`kubectl get secret NAME -n NAMESPACE -o yaml | kubeseal -o yaml > sealedsecret-NAME.yaml`) or describe")
		line("it as an ExternalSecret, and add the file to the namespace's kustomization. The Secrets:")
		line("")
		for _, s := range res.Secrets {
			line("- %s", md(s))
		}
	}
	if len(res.Notes) > 0 || len(res.Overuse) > 0 {
		line("")
		line("## Notes")
		line("")
		for _, n := range res.Notes {
			line("- %s", md(n))
		}
		for _, o := range res.Overuse {
			line("- %s", md(o.Error()))
		}
	}
	return []byte(b.String())
}

// md escapes cluster-supplied text for a line of Markdown.
func md(s string) string { return output.MarkdownText(s) }
