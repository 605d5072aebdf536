package helm

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/scenario"
)

// serveArgs are the arguments `purser serve` runs with, --store aside.
var serveArgs = []string{"serve", "--listen", ":8080", "--interval", "15m", "--auth", "kubernetes",
	"--leader-elect", "--leader-election-namespace", "purser", "--config", "/etc/purser/purser.yaml"}

// modes are the chart's configurations worth installing; each is linted,
// rendered, checked here and dry-run on the API server in live_test.go.
func modes() []struct {
	name  string
	args  []string
	check func(t *testing.T, r rendered)
} {
	return []struct {
		name  string
		args  []string
		check func(t *testing.T, r rendered)
	}{
		{"default", nil, func(t *testing.T, r rendered) {
			d := typed[appsv1.Deployment](t, r.one(t, "Deployment", "purser"))
			if got := *d.Spec.Replicas; got != 1 {
				t.Errorf("replicas %d, want 1", got)
			}
			if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
				t.Errorf("strategy %q: a SQLite file wants Recreate", d.Spec.Strategy.Type)
			}
			c := d.Spec.Template.Spec.Containers[0]
			wantArgs(t, c.Args, serveArgs, "--store=/var/lib/purser/purser.db")
			if c.Image != "ghcr.io/purserhq/purser:0.1.0" {
				t.Errorf("image %q, want the chart's appVersion", c.Image)
			}
			if v := volume(t, d.Spec.Template.Spec, "data"); v.EmptyDir == nil {
				t.Errorf("without persistence the SQLite file is on an emptyDir, got %+v", v.VolumeSource)
			}
			probe(t, c.LivenessProbe, "/healthz")
			probe(t, c.ReadinessProbe, "/readyz")
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("resources %+v: want requests and a memory limit", c.Resources)
			}
			svc := typed[corev1.Service](t, r.one(t, "Service", "purser"))
			if p := svc.Spec.Ports[0]; p.Port != 8080 || p.TargetPort.String() != "http" {
				t.Errorf("service port %+v", p)
			}
			absent(t, r, "PersistentVolumeClaim", "CronJob", "NetworkPolicy", "ServiceMonitor")
			role := typed[rbacv1.ClusterRole](t, r.one(t, "ClusterRole", "purser-read"))
			for _, rule := range role.Rules {
				if !slices.Equal(rule.Verbs, []string{"list"}) {
					t.Errorf("rule %+v: the read role lists, nothing else", rule)
				}
				if slices.Contains(rule.Resources, "secrets") || slices.Contains(rule.Resources, "*") {
					t.Errorf("rule %+v grants Secrets by default", rule)
				}
			}
			auth := typed[rbacv1.ClusterRole](t, r.one(t, "ClusterRole", "purser-auth"))
			if len(auth.Rules) != 2 {
				t.Errorf("auth rules %+v: want TokenReview and SubjectAccessReview", auth.Rules)
			}
			le := typed[rbacv1.Role](t, r.one(t, "Role", "purser-leader-election"))
			if le.Namespace != "purser" || !slices.Equal(le.Rules[0].Resources, []string{"leases"}) {
				t.Errorf("leader election role %+v", le)
			}
		}},
		{"serve with a SQLite volume", []string{"--set", "persistence.enabled=true", "--set", "persistence.size=5Gi"}, func(t *testing.T, r rendered) {
			pvc := typed[corev1.PersistentVolumeClaim](t, r.one(t, "PersistentVolumeClaim", "purser-data"))
			if got := pvc.Spec.Resources.Requests.Storage().String(); got != "5Gi" {
				t.Errorf("claim size %s, want 5Gi", got)
			}
			if pvc.Annotations["helm.sh/resource-policy"] != "keep" {
				t.Error("the history's claim must outlive an uninstall")
			}
			d := typed[appsv1.Deployment](t, r.one(t, "Deployment", "purser"))
			if v := volume(t, d.Spec.Template.Spec, "data"); v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "purser-data" {
				t.Errorf("data volume %+v, want the claim purser-data", v.VolumeSource)
			}
		}},
		{"serve with PostgreSQL", []string{"--set", "store.type=postgres", "--set", "store.postgres.existingSecret=purser-db",
			"--set", "store.postgres.key=dsn", "--set", "serve.replicas=2"}, func(t *testing.T, r rendered) {
			d := typed[appsv1.Deployment](t, r.one(t, "Deployment", "purser"))
			if *d.Spec.Replicas != 2 || d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
				t.Errorf("replicas %d, strategy %q: PostgreSQL allows a rolling update of several replicas", *d.Spec.Replicas, d.Spec.Strategy.Type)
			}
			c := d.Spec.Template.Spec.Containers[0]
			wantArgs(t, c.Args, serveArgs, "--store=$(PURSER_STORE)")
			env := envVar(t, c, "PURSER_STORE")
			if ref := env.ValueFrom.SecretKeyRef; ref == nil || ref.Name != "purser-db" || ref.Key != "dsn" {
				t.Errorf("PURSER_STORE %+v, want the key dsn of the Secret purser-db", env.ValueFrom)
			}
			if strings.Contains(r.YAML, "postgres://") {
				t.Error("the URL must stay in the Secret")
			}
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Name == "data" {
					t.Error("PostgreSQL needs no data volume")
				}
			}
			absent(t, r, "PersistentVolumeClaim")
		}},
		{"cronjob", []string{"--set", "mode=cronjob", "--set", "cronjob.schedule=30 5 * * 1", "--set", "cronjob.reportFormat=sarif"}, func(t *testing.T, r rendered) {
			cj := typed[batchv1.CronJob](t, r.one(t, "CronJob", "purser"))
			if cj.Spec.Schedule != "30 5 * * 1" || cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
				t.Errorf("schedule %q, concurrency %q", cj.Spec.Schedule, cj.Spec.ConcurrencyPolicy)
			}
			spec := cj.Spec.JobTemplate.Spec.Template.Spec
			want := []string{"audit", "--report", "/reports/audit.sarif", "--config", "/etc/purser/purser.yaml"}
			if got := spec.Containers[0].Args; !slices.Equal(got, want) {
				t.Errorf("args %q, want %q", got, want)
			}
			if v := volume(t, spec, "reports"); v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "purser-reports" {
				t.Errorf("reports volume %+v", v.VolumeSource)
			}
			r.one(t, "PersistentVolumeClaim", "purser-reports")
			absent(t, r, "Deployment", "Service", "Role", "RoleBinding")
			for _, cr := range r.find("ClusterRole") {
				if cr.GetName() != "purser-read" {
					t.Errorf("ClusterRole %s: a CronJob serves nothing and reviews no token", cr.GetName())
				}
			}
		}},
		{"cronjob recording history", []string{"--set", "mode=cronjob", "--set", "cronjob.store=true", "--set", "persistence.enabled=true",
			"--set", "cronjob.reports.existingClaim=shared-reports"}, func(t *testing.T, r rendered) {
			cj := typed[batchv1.CronJob](t, r.one(t, "CronJob", "purser"))
			spec := cj.Spec.JobTemplate.Spec.Template.Spec
			if !slices.Contains(spec.Containers[0].Args, "--store=/var/lib/purser/purser.db") {
				t.Errorf("args %q: want the SQLite --store", spec.Containers[0].Args)
			}
			if v := volume(t, spec, "reports"); v.PersistentVolumeClaim.ClaimName != "shared-reports" {
				t.Errorf("reports claim %q, want the existing one", v.PersistentVolumeClaim.ClaimName)
			}
			claims := r.find("PersistentVolumeClaim")
			if len(claims) != 1 || claims[0].GetName() != "purser-data" {
				t.Errorf("claims %s: want purser-data only (the reports claim exists)", r.names())
			}
		}},
		{"network policy", []string{"--set", "networkPolicy.enabled=true", "--set", "networkPolicy.ingressNamespaces={monitoring}",
			"--set", "networkPolicy.apiServer.cidrs={10.0.0.1/32}", "--set", "store.type=postgres", "--set", "store.postgres.existingSecret=db",
			"--set", "networkPolicy.postgres.cidrs={10.1.0.0/16}"}, func(t *testing.T, r rendered) {
			np := typed[networkingv1.NetworkPolicy](t, r.one(t, "NetworkPolicy", "purser"))
			if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
				t.Errorf("policy types %q", np.Spec.PolicyTypes)
			}
			from := np.Spec.Ingress[0].From[0].NamespaceSelector.MatchExpressions[0].Values
			if !slices.Equal(from, []string{"purser", "monitoring"}) {
				t.Errorf("ingress from %q, want the release namespace and monitoring", from)
			}
			if p := np.Spec.Ingress[0].Ports[0].Port.String(); p != "http" {
				t.Errorf("ingress port %s", p)
			}
			var got []string
			for _, e := range np.Spec.Egress {
				var to []string
				for _, peer := range e.To {
					if peer.IPBlock != nil {
						to = append(to, peer.IPBlock.CIDR)
					}
					if peer.NamespaceSelector != nil {
						to = append(to, "ns:"+peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"])
					}
				}
				for _, p := range e.Ports {
					got = append(got, strings.Join(to, "+")+">"+p.Port.String()+"/"+string(*p.Protocol))
				}
			}
			want := []string{"10.0.0.1/32>443/TCP", "10.0.0.1/32>6443/TCP", "ns:kube-system>53/UDP", "ns:kube-system>53/TCP", "10.1.0.0/16>5432/TCP"}
			if !slices.Equal(got, want) {
				t.Errorf("egress %q,\nwant %q", got, want)
			}
		}},
		{"service monitor forced", []string{"--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.serviceMonitor.force=true"}, func(t *testing.T, r rendered) {
			sm := r.one(t, "ServiceMonitor", "purser")
			ep := unstructuredSlice(sm.Object, "spec", "endpoints")
			if len(ep) != 1 || ep[0].(map[string]any)["path"] != "/metrics" || ep[0].(map[string]any)["port"] != "http" {
				t.Errorf("endpoints %v", ep)
			}
		}},
	}
}

// unstructuredSlice returns the list at a path of an object, nil when
// there is none.
func unstructuredSlice(obj map[string]any, fields ...string) []any {
	var cur any = obj
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[f]
	}
	s, _ := cur.([]any)
	return s
}

// TestModes lints and renders each mode and checks what it renders, the
// restricted Pod Security profile of every pod included.
func TestModes(t *testing.T) {
	t.Parallel()
	helmBinary(t)
	for _, m := range modes() {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := runHelm(t, append([]string{"lint", "--strict", chartDir(t), "--namespace", "purser"}, m.args...)...); err != nil {
				t.Fatal(err)
			}
			r := render(t, "purser", m.args...)
			m.check(t, r)
			specs := r.podSpecs(t)
			if len(specs) != 1 {
				t.Fatalf("workloads %v: want one, a Deployment or a CronJob", r.names())
			}
			for name, spec := range specs {
				restricted(t, name, spec)
			}
			for _, o := range r.Objects {
				if ns := o.GetNamespace(); ns != "" && ns != "purser" {
					t.Errorf("%s %s in namespace %q, want the release's", o.GetKind(), o.GetName(), ns)
				}
				if o.GetLabels()["app.kubernetes.io/instance"] != "purser" {
					t.Errorf("%s %s lacks the release's labels", o.GetKind(), o.GetName())
				}
			}
		})
	}
}

// restricted checks what the restricted Pod Security profile asks, and
// what the chart adds: a read-only root file system with /tmp writable.
func restricted(t *testing.T, name string, spec corev1.PodSpec) {
	t.Helper()
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("%s: pod security context %+v: want runAsNonRoot and a numeric non-zero runAsUser", name, psc)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: want seccomp RuntimeDefault", name)
	}
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s: container %s: security context %+v", name, c.Name, sc)
		}
		var tmp bool
		for _, m := range c.VolumeMounts {
			tmp = tmp || m.MountPath == "/tmp"
		}
		if !tmp || volume(t, spec, "tmp").EmptyDir == nil {
			t.Errorf("%s: container %s: want an emptyDir on /tmp", name, c.Name)
		}
		if envVar(t, c, "KUBECONFIG").Value != "/etc/purser/kube/kubeconfig" {
			t.Errorf("%s: container %s reads no in-cluster kubeconfig", name, c.Name)
		}
	}
	if spec.ServiceAccountName != "purser" || spec.AutomountServiceAccountToken == nil || !*spec.AutomountServiceAccountToken {
		t.Errorf("%s: service account %q, its token mounted: %v; the kubeconfig reads the token", name, spec.ServiceAccountName, spec.AutomountServiceAccountToken)
	}
}

func wantArgs(t *testing.T, got, serve []string, store string) {
	t.Helper()
	want := slices.Insert(slices.Clone(serve), 3, store)
	if !slices.Equal(got, want) {
		t.Errorf("args\n got %q\nwant %q", got, want)
	}
}

func volume(t *testing.T, spec corev1.PodSpec, name string) corev1.Volume {
	t.Helper()
	for _, v := range spec.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %s", name)
	return corev1.Volume{}
}

func envVar(t *testing.T, c corev1.Container, name string) corev1.EnvVar {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("container %s: no env %s", c.Name, name)
	return corev1.EnvVar{}
}

func probe(t *testing.T, p *corev1.Probe, path string) {
	t.Helper()
	if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "http" {
		t.Errorf("probe %+v, want GET %s on port http", p, path)
	}
}

func absent(t *testing.T, r rendered, kinds ...string) {
	t.Helper()
	for _, k := range kinds {
		if objs := r.find(k); len(objs) > 0 {
			t.Errorf("rendered a %s (%s)", k, objs[0].GetName())
		}
	}
}

// TestRejected shows that values the schema forbids, and combinations the
// templates refuse, fail helm template with a message that names them.
func TestRejected(t *testing.T) {
	t.Parallel()
	helmBinary(t)
	for _, tc := range []struct {
		name string
		set  []string
		want string
	}{
		{"unknown mode", []string{"mode=daemon"}, "mode"},
		{"unknown key", []string{"serve.intervall=5m"}, "intervall"},
		{"bad interval", []string{"serve.interval=hourly"}, "interval"},
		{"zero replicas", []string{"serve.replicas=0"}, "replicas"},
		{"bad digest", []string{"image.digest=latest"}, "digest"},
		{"report format", []string{"cronjob.reportFormat=pdf"}, "reportFormat"},
		{"plain http API server", []string{"kubeAPI.server=http://10.0.0.1"}, "server"},
		{"a writing extra rule", []string{"rbac.extraRules[0].apiGroups[0]=", "rbac.extraRules[0].resources[0]=pods", "rbac.extraRules[0].verbs[0]=delete"}, "verbs"},
		{"secrets through an extra rule", []string{"rbac.extraRules[0].apiGroups[0]=", "rbac.extraRules[0].resources[0]=secrets", "rbac.extraRules[0].verbs[0]=get"}, "resources"},
		{"SQLite with two replicas", []string{"serve.replicas=2"}, "SQLite file has one writer"},
		{"PostgreSQL without a Secret", []string{"store.type=postgres"}, "store.postgres.existingSecret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var args []string
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			_, stderr, err := runHelm(t, append([]string{"template", "purser", chartDir(t), "--namespace", "purser"}, args...)...)
			if err == nil {
				t.Fatalf("--set %s rendered", strings.Join(tc.set, " --set "))
			}
			// Only helm's message: the error also quotes the arguments.
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("helm says %q, which does not name %q", stderr, tc.want)
			}
		})
	}
}

// TestImage shows a digest pinning the image over the tag.
func TestImage(t *testing.T) {
	t.Parallel()
	helmBinary(t)
	digest := "sha256:" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		set  []string
		want string
	}{
		{"tag", []string{"image.tag=v1.2.3"}, "ghcr.io/purserhq/purser:v1.2.3"},
		{"digest wins", []string{"image.tag=v1.2.3", "image.digest=" + digest, "image.repository=registry.example/purser"}, "registry.example/purser@" + digest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var args []string
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			d := typed[appsv1.Deployment](t, render(t, "purser", args...).one(t, "Deployment", "purser"))
			if got := d.Spec.Template.Spec.Containers[0].Image; got != tc.want {
				t.Errorf("image %q, want %q", got, tc.want)
			}
		})
	}
}

// TestServiceMonitorNeedsItsAPI shows the ServiceMonitor rendered only
// when the cluster serves its API, or when forced.
func TestServiceMonitorNeedsItsAPI(t *testing.T) {
	t.Parallel()
	helmBinary(t)
	for _, tc := range []struct {
		name string
		args []string
		want bool
	}{
		{"enabled, API not served", []string{"--set", "metrics.serviceMonitor.enabled=true"}, false},
		{"enabled, API served", []string{"--set", "metrics.serviceMonitor.enabled=true", "--api-versions", "monitoring.coreos.com/v1/ServiceMonitor"}, true},
		{"API served, not enabled", []string{"--api-versions", "monitoring.coreos.com/v1/ServiceMonitor"}, false},
		{"forced in mode cronjob", []string{"--set", "mode=cronjob", "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.serviceMonitor.force=true"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := len(render(t, "purser", tc.args...).find("ServiceMonitor")) == 1; got != tc.want {
				t.Errorf("ServiceMonitor rendered: %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRenderedConfig shows that Purser reads what the chart mounts: the
// purser.yaml built from the config value, and the kubeconfig.
func TestRenderedConfig(t *testing.T) {
	t.Parallel()
	helmBinary(t)
	demo := demoConfigValues(t)
	for _, tc := range []struct {
		name  string
		args  []string
		teams int
	}{
		{"defaults", nil, 0},
		{"the demo's config", []string{"-f", valuesFile(t, map[string]any{"config": demo})}, len(scenarioConfig(t).Classify.Teams)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := render(t, "purser", tc.args...)
			cfg, err := config.Parse("purser.yaml", []byte(r.configMapData(t, "purser.yaml")))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(cfg.Classify.Teams); got != tc.teams {
				t.Errorf("%d teams, want %d", got, tc.teams)
			}
			kc, err := clientcmd.Load([]byte(r.configMapData(t, "kubeconfig")))
			if err != nil {
				t.Fatal(err)
			}
			if kc.CurrentContext != "in-cluster" {
				t.Errorf("context %q, want the clusterName", kc.CurrentContext)
			}
			// The files exist only in a pod; the scan in live_test.go reads
			// them from elsewhere.
			kctx := kc.Contexts[kc.CurrentContext]
			cl, user := kc.Clusters[kctx.Cluster], kc.AuthInfos[kctx.AuthInfo]
			if kctx.Namespace != "purser" || cl.Server != "https://kubernetes.default.svc" ||
				cl.CertificateAuthority != "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" ||
				user.TokenFile != "/var/run/secrets/kubernetes.io/serviceaccount/token" || user.Token != "" {
				t.Errorf("kubeconfig: namespace %q, server %q, CA %q, token file %q", kctx.Namespace, cl.Server, cl.CertificateAuthority, user.TokenFile)
			}
		})
	}
}

// demoConfigValues is the demo's purser.yaml as the chart's config value:
// its sections, without the header the chart writes.
func demoConfigValues(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(scenario.DemoConfigYAML(), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "apiVersion")
	delete(m, "kind")
	return m
}

func scenarioConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Parse(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestHelmVersionIsTheMakefiles keeps the version these tests look for
// and the one make installs the same.
func TestHelmVersionIsTheMakefiles(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	want := "HELM_VERSION ?= " + helmVersion + "\n"
	if !strings.Contains(string(data), want) {
		t.Errorf("the Makefile has no line %q", strings.TrimSpace(want))
	}
}

// customResourceGroups returns the groups the read role grants `list` on
// every resource of.
func customResourceGroups(t testing.TB, r rendered) []string {
	t.Helper()
	var out []string
	for _, o := range r.find("ClusterRole") {
		if !strings.HasSuffix(o.GetName(), "-read") {
			continue
		}
		for _, rule := range typed[rbacv1.ClusterRole](t, o).Rules {
			if slices.Equal(rule.Resources, []string{"*"}) {
				if !slices.Equal(rule.Verbs, []string{"list"}) {
					t.Errorf("rule %+v: list only", rule)
				}
				out = append(out, rule.APIGroups...)
			}
		}
	}
	return out
}

// TestListCustomResources shows rbac.listCustomResources granting the
// groups the cluster serves beyond Kubernetes' own, and no built-in group
// (helm's default capabilities are the built-in groups of its Kubernetes
// version, so a new one fails here).
func TestListCustomResources(t *testing.T) {
	t.Parallel()
	helmBinary(t)
	served := []string{"--api-versions", "monitoring.coreos.com/v1", "--api-versions", "monitoring.coreos.com/v1/ServiceMonitor",
		"--api-versions", "gateway.networking.k8s.io/v1", "--api-versions", "gateway.networking.k8s.io/v1beta1"}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"off", served, nil},
		{"on, built-in groups only", []string{"--set", "rbac.listCustomResources=true"}, nil},
		{"on", append([]string{"--set", "rbac.listCustomResources=true"}, served...), []string{"gateway.networking.k8s.io", "monitoring.coreos.com"}},
		// What a cluster reports beside its groups: core kinds as v1/Kind.
		{"core kinds are no group", []string{"--set", "rbac.listCustomResources=true", "--api-versions", "v1/Pod", "--api-versions", "v1"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := customResourceGroups(t, render(t, "purser", tc.args...)); !slices.Equal(got, tc.want) {
				t.Errorf("groups %q, want %q", got, tc.want)
			}
		})
	}
}
