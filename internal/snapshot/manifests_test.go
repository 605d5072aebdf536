package snapshot_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/kustomize"
)

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
`

const namespacedSvc = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: other}
spec: {selector: {app: web}, ports: [{port: 80}]}
`

const clusterRole = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: view, labels: {team: mine}}
rules: []
`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadManifestSetNamespaces(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		input   string
		ns      string
		want    []string // Deployments and Services as namespace/name
		wantErr string
	}{
		{name: "default namespace", input: deployment, want: []string{"Deployment default/web"}},
		{name: "-n namespace", input: deployment, ns: "shop", want: []string{"Deployment shop/web"}},
		{name: "explicit namespace kept", input: namespacedSvc, want: []string{"Service other/web"}},
		{name: "explicit namespace against -n", input: deployment + "---\n" + namespacedSvc, ns: "shop",
			wantErr: `the namespace of Service other/web does not match the namespace "shop" given with -n`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := snapshot.LoadManifestSet(context.Background(), []string{"-"},
				snapshot.ManifestOptions{Namespace: tt.ns, Stdin: strings.NewReader(tt.input)})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range s.Deployments {
				got = append(got, "Deployment "+d.Namespace+"/"+d.Name)
			}
			for _, svc := range s.Services {
				if svc.Name != "kube-dns" {
					got = append(got, "Service "+svc.Namespace+"/"+svc.Name)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if len(s.Deployments) == 1 && s.Deployments[0].Spec.Template.Spec.Containers[0].Image != "nginx:1.27" {
				t.Error("giving the namespace lost the rest of the object")
			}
		})
	}
}

// The objects every cluster has are known, and the set's own definition
// of one wins over the built-in.
func TestLoadManifestSetBuiltins(t *testing.T) {
	t.Parallel()
	s, err := snapshot.LoadManifestSet(context.Background(), []string{"-"},
		snapshot.ManifestOptions{Stdin: strings.NewReader(deployment + "---\n" + namespacedSvc + "---\n" + clusterRole)})
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]int{}
	for _, r := range s.ClusterRoles {
		roles[r.Name]++
		if r.Name == "view" && r.Labels["team"] != "mine" {
			t.Error("the built-in view replaced the set's own")
		}
	}
	for _, name := range snapshot.BootstrapClusterRoles() {
		if roles[name] != 1 {
			t.Errorf("ClusterRole %s appears %d times, want once", name, roles[name])
		}
	}
	has := func(kind, ns, name string) bool {
		switch kind {
		case "ServiceAccount":
			return slices.ContainsFunc(s.ServiceAccounts, func(o corev1.ServiceAccount) bool { return o.Namespace == ns && o.Name == name })
		case "ConfigMap":
			return slices.ContainsFunc(s.ConfigMaps, func(o corev1.ConfigMap) bool { return o.Namespace == ns && o.Name == name })
		case "Service":
			return slices.ContainsFunc(s.Services, func(o corev1.Service) bool { return o.Namespace == ns && o.Name == name })
		}
		return false
	}
	for _, want := range [][3]string{
		{"ServiceAccount", "default", "default"}, {"ServiceAccount", "other", "default"}, {"ServiceAccount", "kube-system", "default"},
		{"ConfigMap", "other", "kube-root-ca.crt"}, {"ConfigMap", "kube-public", "kube-root-ca.crt"},
		{"Service", "kube-system", "kube-dns"},
	} {
		if !has(want[0], want[1], want[2]) {
			t.Errorf("no built-in %s %s/%s", want[0], want[1], want[2])
		}
	}
	if has("ServiceAccount", "elsewhere", "default") {
		t.Error("a default ServiceAccount in a namespace the set does not use")
	}
	for _, k := range s.Meta.Kinds {
		if k.Resource == "clusterroles" && k.Count != len(s.ClusterRoles) {
			t.Errorf("clusterroles counted %d, %d held", k.Count, len(s.ClusterRoles))
		}
	}
}

// A directory is read file by file, except a subdirectory holding a
// kustomization, which is built: its patches are not objects.
func TestLoadManifestSetKustomize(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"plain/svc.yaml":                namespacedSvc,
		"app/kustomization.yaml":        "namespace: built\nresources: [deploy.yaml]\npatches:\n- path: replicas.yaml\n",
		"app/deploy.yaml":               deployment,
		"app/replicas.yaml":             "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n",
		".hidden/ignored.yaml":          "not: an object\n",
		"notes/README.md":               "# not read\n",
		"broken/kustomization.yaml.bak": "ignored",
	})
	tests := []struct {
		name  string
		paths []string
		want  []string
	}{
		{name: "tree", paths: []string{dir}, want: []string{"Deployment built/web 3", "Service other/web"}},
		{name: "kustomization named directly", paths: []string{filepath.Join(dir, "app")}, want: []string{"Deployment built/web 3"}},
		{name: "a file and a kustomization", paths: []string{filepath.Join(dir, "plain", "svc.yaml"), filepath.Join(dir, "app")},
			want: []string{"Deployment built/web 3", "Service other/web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := snapshot.LoadManifestSet(context.Background(), tt.paths, snapshot.ManifestOptions{Kustomize: kustomize.Build})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range s.Deployments {
				got = append(got, "Deployment "+d.Namespace+"/"+d.Name+" "+strings.TrimSpace(replicas(d.Spec.Replicas)))
			}
			for _, svc := range s.Services {
				if svc.Name != "kube-dns" {
					got = append(got, "Service "+svc.Namespace+"/"+svc.Name)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoadManifestSetErrors(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"bad/kustomization.yaml": "resources: [missing.yaml]\n",
		"empty/README.md":        "nothing\n",
	})
	tests := []struct {
		paths []string
		want  string
	}{
		{nil, "no manifests given"},
		{[]string{"-", "-"}, "- (stdin) is given twice"},
		{[]string{filepath.Join(dir, "bad")}, "kustomize build " + filepath.Join(dir, "bad")},
		{[]string{filepath.Join(dir, "empty")}, "no .yaml, .yml or .json files"},
		{[]string{filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
	}
	for _, tt := range tests {
		_, err := snapshot.LoadManifestSet(context.Background(), tt.paths, snapshot.ManifestOptions{Stdin: strings.NewReader(deployment), Kustomize: kustomize.Build})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.paths, err, tt.want)
		}
	}
}

func replicas(p *int32) string {
	if p == nil {
		return "unset"
	}
	return strconv.Itoa(int(*p))
}

// Without a builder, a kustomization is refused rather than read file by
// file: its patches would pass for objects.
func TestLoadManifestSetNoKustomize(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"kustomization.yaml": "resources: [d.yaml]\n", "d.yaml": deployment})
	_, err := snapshot.LoadManifestSet(context.Background(), []string{dir}, snapshot.ManifestOptions{})
	if err == nil || !strings.Contains(err.Error(), "holds a kustomization, and this reader builds none") {
		t.Fatalf("error %v, want a refusal", err)
	}
}

// Objects of kinds the snapshot does not model and that name no
// namespace (a PodSecurityPolicy, a ClusterRole in an old version) are
// kept, with none, so that their apiVersion can be judged; they are in
// no namespace, so -n does not refuse them and no namespace "" appears.
func TestManifestSetKeepsClusterScopedUnmodelled(t *testing.T) {
	t.Parallel()
	const doc = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: restricted}
spec: {privileged: false}
---
apiVersion: rbac.authorization.k8s.io/v1beta1
kind: ClusterRole
metadata: {name: reader}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
`
	s, err := snapshot.LoadManifestSet(context.Background(), []string{"-"}, snapshot.ManifestOptions{Namespace: "team-a", Stdin: strings.NewReader(doc)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range s.Others {
		got = append(got, o.Group+"/"+o.Version+"/"+o.Kind+"/"+o.Namespace+"/"+o.Name)
	}
	want := []string{"policy/v1beta1/PodSecurityPolicy//restricted", "rbac.authorization.k8s.io/v1beta1/ClusterRole//reader"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("others %v, want %v", got, want)
	}
	for _, sa := range s.ServiceAccounts {
		if sa.Namespace == "" {
			t.Errorf("a default ServiceAccount in namespace \"\": %+v", sa.ObjectMeta)
		}
	}
	ix := snapshot.NewIndex(s)
	if c := ix.NamespaceContents(""); c.Objects["PodSecurityPolicy.policy"] > 0 || c.Objects["ClusterRole.rbac.authorization.k8s.io"] > 0 {
		t.Errorf("cluster-scoped objects counted in a namespace \"\": %v", c.Objects)
	}
}
