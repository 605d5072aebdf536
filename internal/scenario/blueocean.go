package scenario

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// BlueOcean is the cluster of the seed documents: 27 DigitalOcean nodes in
// 6 pools, 69 namespaces of which 18 are empty, one product spread over 8
// namespaces, and the faults the audit found by hand.
//
// The seed's figures do not all add up; the choices made here, each kept
// consistent with the rest:
//   - Empty namespaces: the strategy lists 16 names plus "4 others" and
//     calls it 18. The 16 named ones are empty here, plus 2 others
//     (kvibes-staging, kvibe-test), which makes the kvibes product span the
//     "8 namespaces" the strategy speaks of. 16 + 2 = 18.
//   - nextstep-prod is both "deleted as empty" and a Phase 1 target: it is
//     empty today, so `plan --strategy empty` lists it, and the product
//     plan reuses it as the target instead of deleting it.
//   - 69 namespaces: the 4 Kubernetes ones, the 18 empty ones, the product
//     namespaces the strategy names, and the shared services that Phase 1
//     folds into platform and monitoring; 15 others stay as they are, so
//     that Phase 1 ends at 4 + 8 + 15 = 27 namespaces, as the strategy says.
//   - 27 nodes: the report's pools (monitoring 3, platform 4, applications
//     16, saas 3, api 2, infra 1) add up to 29, while the report says 27
//     nodes and the DaemonSet covers 26 of 27. 27 is the figure two
//     statements agree on, so the applications pool has 14 nodes.
//   - Compute $966: the audit gives the total only. These instance types
//     reach exactly $966 a month at list price: 14 + 3 s-2vcpu-4gb ($24),
//     3 + 4 s-4vcpu-8gb ($48), 2 g-2vcpu-8gb ($63), 1 s-8vcpu-16gb ($96):
//     408 + 336 + 126 + 96 = 966.
//   - Monitoring services: the report says both "8 services sans endpoints
//     sur 13" and "Services avec Endpoints 8/13". The statistics table is
//     the measured one: 5 of 13 monitoring Services have no endpoints here.
//   - Storage: PVCs add up to 533 GiB, as the OpenCost figure says.
//   - Load balancers: 9 Services of type LoadBalancer.
//   - The Pending node-exporter pod: the seed blames node affinity; the real
//     cause (see the domain notes) is that its node is full. The infra
//     node's workloads leave 60m of CPU, less than node-exporter asks for;
//     the scheduler then says "1 Insufficient cpu, 26 node(s) didn't
//     satisfy plugin(s) [NodeAffinity]".
func BlueOcean() Scenario {
	pools := []Pool{
		{Name: "monitoring", InstanceType: "s-4vcpu-8gb", Count: 3, CPU: 4, MemoryGiB: 8},
		{Name: "platform", InstanceType: "s-4vcpu-8gb", Count: 4, CPU: 4, MemoryGiB: 8},
		{Name: "applications", InstanceType: "s-2vcpu-4gb", Count: 14, CPU: 2, MemoryGiB: 4},
		{Name: "saas", InstanceType: "s-2vcpu-4gb", Count: 3, CPU: 2, MemoryGiB: 4},
		{Name: "api", InstanceType: "g-2vcpu-8gb", Count: 2, CPU: 2, MemoryGiB: 8},
		{Name: "infra", InstanceType: "s-8vcpu-16gb", Count: 1, CPU: 8, MemoryGiB: 16},
	}
	b := &builder{nodes: 0}
	for _, p := range pools {
		b.nodes += p.Count
		b.add(p.nodes("fra1")...)
	}
	b.add(doStorageClass())

	for _, ns := range emptyNamespaces() {
		b.add(namespace(ns, nil, "empty: nothing but the default ServiceAccount and kube-root-ca.crt"))
	}
	for _, ns := range populatedNamespaces() {
		b.add(namespace(ns, nil, ""))
	}

	b.system()
	b.monitoring()
	b.platform()
	b.nextstep()
	b.kvibes()
	b.onlyoneapi()
	b.others()

	return Scenario{Name: "blueocean", Pools: pools, Objects: b.objs, ExpectedPods: b.pods}
}

// emptyNamespaces are the 18 namespaces that hold nothing.
func emptyNamespaces() []string {
	return []string{
		// The 16 the strategy names.
		"milvus-test", "models", "v24-crm", "tailscale", "vpn",
		"shared-infra", "shared-components", "production", "staging",
		"kvibe-dev", "kvibes", "kvibes-production",
		"nextstep-prod", "nextstep-staging", "nextstep-system",
		"onlyoneapi-production",
		// Its "others".
		"kvibes-staging", "kvibe-test",
	}
}

// populatedNamespaces are the 47 namespaces with workloads, besides the 4
// Kubernetes creates.
func populatedNamespaces() []string {
	ns := []string{
		// nextstep (5 + 3 empty = 8 namespaces)
		"nextstep", "nextstep-factory", "nextstep-dev", "nextstep-affiliation", "nextstep-data",
		// kvibes (3 + 5 empty = 8 namespaces)
		"kvibe-prod", "kvibe-staging", "kvibes-dev",
		// onlyoneapi
		"onlyoneapi-prod", "onlyoneapi-dev", "onlyoneapi-portal", "onlyoneapi-docs", "onlyoneapi-sandbox",
		// monitoring and what Phase 1 folds into it
		"monitoring", "jaeger", "loki", "opencost", "uptime-kuma", "blackbox-exporter",
		// platform and the shared services Phase 1 folds into it
		"platform", "postgres-central", "redis", "vault", "rabbitmq", "minio", "keycloak", "mailhog",
		"elasticsearch", "kafka", "meilisearch", "pgadmin", "imgproxy",
		// the rest, which Phase 1 leaves alone
		"ingress-nginx", "cert-manager", "external-dns", "velero", "argocd", "sealed-secrets",
		"konqer-dev", "kreach-dev", "n8n", "metabase", "sentry", "plausible", "wordpress", "directus", "umami",
	}
	sort.Strings(ns)
	return ns
}

type builder struct {
	objs  []Object
	nodes int
	pods  int
}

func (b *builder) add(o ...Object) { b.objs = append(b.objs, o...) }

func (b *builder) app(a app) {
	b.add(a.objects(nil)...)
	b.pods += a.podCount(b.nodes)
}

func (b *builder) claim(ns, name, size string) { b.add(claim(ns, name, size, nil)...) }

func vol(claim, mount string) []appVolume { return []appVolume{{claim: claim, mount: mount}} }

func (b *builder) system() {
	// CoreDNS and DOKS's node agents. The DaemonSets load before the
	// applications so they hold their place on every node.
	b.app(app{ns: "kube-system", name: "coredns", replicas: 2, pool: "platform", cpu: "100m", mem: "70Mi", port: 53,
		svcPortName: "dns", image: "registry.k8s.io/coredns/coredns:v1.12.1", service: corev1.ServiceTypeClusterIP,
		svcName: "kube-dns", stage: StageSystem, podLabels: map[string]string{"k8s-app": "kube-dns"}})
	b.app(app{ns: "kube-system", name: "cilium", kind: "DaemonSet", cpu: "100m", mem: "128Mi",
		image: "ghcr.io/digitalocean-packages/cilium:v1.16.9", stage: StageSystem})
	b.app(app{ns: "kube-system", name: "csi-do-node", kind: "DaemonSet", cpu: "20m", mem: "64Mi",
		image: "digitalocean/do-csi-plugin:v4.14.0", stage: StageSystem})
}

func (b *builder) monitoring() {
	// kube-prometheus-style stack, installed partly by Helm and partly by
	// hand, which is how selectors and labels came to disagree.
	b.claim("monitoring", "prometheus-server", "100Gi")
	b.claim("monitoring", "alertmanager", "5Gi")
	b.claim("monitoring", "grafana", "10Gi")
	b.app(app{ns: "monitoring", name: "prometheus", component: "server", svcName: "prometheus-server", release: "prometheus",
		replicas: 1, pool: "monitoring", cpu: "1", mem: "3Gi", port: 9090, image: "quay.io/prometheus/prometheus:v2.53.4",
		labels: handLabels, service: corev1.ServiceTypeClusterIP, svcSelector: helmLabels,
		volumes: vol("prometheus-server", "/data"),
		note:    "seed fault: re-created by hand with app/component labels; the Helm Service still selects app.kubernetes.io labels (no endpoints for 103 days)"})
	b.app(app{ns: "monitoring", name: "alertmanager", release: "prometheus", replicas: 1, pool: "monitoring", cpu: "100m", mem: "256Mi",
		port: 9093, image: "quay.io/prometheus/alertmanager:v0.28.1", labels: helmLabels,
		service: corev1.ServiceTypeClusterIP, svcSelector: handLabels, volumes: vol("alertmanager", "/alertmanager")})
	b.app(app{ns: "monitoring", name: "prometheus-node-exporter", kind: "DaemonSet", release: "prometheus", cpu: "100m", mem: "64Mi",
		port: 9100, svcPortName: "metrics", image: "quay.io/prometheus/node-exporter:v1.9.1",
		labels: handLabels, service: corev1.ServiceTypeClusterIP, svcSelector: helmLabels, stage: StageLate,
		note: "loaded once every node is busy: the infra node has 60m CPU left and node-exporter asks for 100m"})
	b.app(app{ns: "monitoring", name: "grafana", release: "grafana", replicas: 1, pool: "monitoring", cpu: "250m", mem: "512Mi",
		port: 3000, image: "docker.io/grafana/grafana:11.6.1", labels: helmLabels, svcSelector: helmLabels,
		service: corev1.ServiceTypeLoadBalancer, volumes: vol("grafana", "/var/lib/grafana")})
	b.app(app{ns: "monitoring", name: "kube-state-metrics", release: "prometheus", replicas: 1, pool: "monitoring", cpu: "100m",
		mem: "256Mi", port: 8080, image: "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.15.0",
		labels: helmLabels, svcSelector: helmLabels, service: corev1.ServiceTypeClusterIP})
	b.app(app{ns: "monitoring", name: "pushgateway", release: "prometheus", replicas: 1, pool: "monitoring", cpu: "50m",
		mem: "64Mi", port: 9091, image: "quay.io/prometheus/pushgateway:v1.11.1",
		labels: helmLabels, svcSelector: helmLabels, service: corev1.ServiceTypeClusterIP})
	b.app(app{ns: "blackbox-exporter", name: "blackbox-exporter", replicas: 1, pool: "monitoring", cpu: "50m", mem: "64Mi",
		port: 9115, image: "quay.io/prometheus/blackbox-exporter:v0.26.0", service: corev1.ServiceTypeClusterIP})

	// Jaeger from its chart, with Services written by hand.
	for _, c := range []string{"collector", "query"} {
		b.app(app{ns: "jaeger", name: "jaeger-" + c, release: "jaeger", replicas: 1, pool: "monitoring", cpu: "200m", mem: "256Mi",
			port: 14268, image: "docker.io/jaegertracing/jaeger-" + c + ":1.68.0", labels: helmLabels,
			service: corev1.ServiceTypeClusterIP, svcSelector: handLabels})
	}
	b.app(app{ns: "jaeger", name: "jaeger-agent", release: "jaeger", replicas: 1, pool: "monitoring", cpu: "50m", mem: "64Mi",
		port: 6831, image: "docker.io/jaegertracing/jaeger-agent:1.68.0", labels: helmLabels, svcSelector: helmLabels,
		service: corev1.ServiceTypeClusterIP})

	b.claim("loki", "storage-loki-0", "50Gi")
	b.app(app{ns: "loki", name: "loki", kind: "StatefulSet", release: "loki", replicas: 1, pool: "monitoring", cpu: "500m",
		mem: "1Gi", port: 3100, image: "docker.io/grafana/loki:3.4.3", labels: helmLabels, svcSelector: helmLabels,
		service: corev1.ServiceTypeClusterIP, volumes: vol("storage-loki-0", "/var/loki")})
	b.app(app{ns: "opencost", name: "opencost", release: "opencost", replicas: 1, pool: "monitoring", cpu: "100m", mem: "256Mi",
		port: 9003, image: "ghcr.io/opencost/opencost:1.114.0", labels: helmLabels, svcSelector: helmLabels,
		service: corev1.ServiceTypeClusterIP, env: []corev1.EnvVar{{Name: "PROMETHEUS_SERVER_ENDPOINT",
			Value: "http://prometheus-server.monitoring.svc.cluster.local:80"}}})
	b.claim("uptime-kuma", "uptime-kuma", "2Gi")
	b.app(app{ns: "uptime-kuma", name: "uptime-kuma", replicas: 1, pool: "monitoring", cpu: "100m", mem: "256Mi", port: 3001,
		image: "docker.io/louislam/uptime-kuma:1.23.16", service: corev1.ServiceTypeClusterIP,
		volumes: vol("uptime-kuma", "/app/data")})
}

func (b *builder) platform() {
	b.add(secret("postgres-central", "postgres-credentials", nil, "username", "password"))
	b.claim("postgres-central", "data-postgres-central-0", "150Gi")
	b.app(app{ns: "postgres-central", name: "postgres-central", kind: "StatefulSet", replicas: 1, pool: "platform",
		cpu: "1", mem: "2Gi", port: 5432, svcPortName: "postgres", image: "docker.io/library/postgres:16.8",
		service: corev1.ServiceTypeClusterIP, volumes: vol("data-postgres-central-0", "/var/lib/postgresql/data"),
		env: []corev1.EnvVar{{Name: "POSTGRES_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "postgres-credentials"}, Key: "password"}}}}})
	b.claim("redis", "redis-data-redis-master-0", "20Gi")
	b.app(app{ns: "redis", name: "redis-master", kind: "StatefulSet", release: "redis", replicas: 1, pool: "platform",
		cpu: "250m", mem: "512Mi", port: 6379, svcPortName: "redis", image: "docker.io/bitnami/redis:7.4.2",
		labels: helmLabels, svcSelector: helmLabels, service: corev1.ServiceTypeClusterIP,
		volumes: vol("redis-data-redis-master-0", "/data")})
	b.app(app{ns: "platform", name: "pgbouncer", replicas: 2, pool: "platform", cpu: "100m", mem: "64Mi", port: 6432,
		svcPortName: "pgbouncer", image: "docker.io/bitnami/pgbouncer:1.24.0", service: corev1.ServiceTypeClusterIP,
		env: []corev1.EnvVar{{Name: "POSTGRESQL_HOST", Value: "postgres-central.postgres-central.svc.cluster.local"}}})
	b.app(app{ns: "platform", name: "platform-gateway", replicas: 2, pool: "platform", cpu: "200m", mem: "256Mi", port: 8080,
		service: corev1.ServiceTypeClusterIP})

	type svc struct {
		ns, name, image, cpu, mem, claim, size string
		port                                   int32
		kind                                   string
		lb                                     bool
	}
	for _, s := range []svc{
		{ns: "vault", name: "vault", kind: "StatefulSet", image: "docker.io/hashicorp/vault:1.19.2", cpu: "250m", mem: "256Mi", claim: "data-vault-0", size: "10Gi", port: 8200},
		{ns: "rabbitmq", name: "rabbitmq", kind: "StatefulSet", image: "docker.io/library/rabbitmq:3.13.7", cpu: "500m", mem: "1Gi", claim: "data-rabbitmq-0", size: "20Gi", port: 5672},
		{ns: "minio", name: "minio", image: "quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z", cpu: "250m", mem: "512Mi", claim: "minio", size: "50Gi", port: 9000, lb: true},
		{ns: "keycloak", name: "keycloak", image: "quay.io/keycloak/keycloak:26.2.4", cpu: "500m", mem: "1Gi", port: 8080},
		{ns: "mailhog", name: "mailhog", image: "docker.io/mailhog/mailhog:v1.0.1", cpu: "50m", mem: "64Mi", port: 8025},
		{ns: "elasticsearch", name: "elasticsearch", kind: "StatefulSet", image: "docker.elastic.co/elasticsearch/elasticsearch:8.18.0", cpu: "1", mem: "2Gi", claim: "data-elasticsearch-0", size: "30Gi", port: 9200},
		{ns: "kafka", name: "kafka", kind: "StatefulSet", image: "docker.io/bitnami/kafka:3.9.0", cpu: "500m", mem: "1Gi", claim: "data-kafka-0", size: "20Gi", port: 9092},
		{ns: "meilisearch", name: "meilisearch", image: "docker.io/getmeili/meilisearch:v1.14.0", cpu: "100m", mem: "256Mi", claim: "meili-data", size: "5Gi", port: 7700},
		{ns: "pgadmin", name: "pgadmin", image: "docker.io/dpage/pgadmin4:9.3", cpu: "100m", mem: "256Mi", port: 80},
		{ns: "imgproxy", name: "imgproxy", image: "docker.io/darthsim/imgproxy:v3.28.0", cpu: "100m", mem: "128Mi", port: 8080},
	} {
		a := app{ns: s.ns, name: s.name, kind: s.kind, replicas: 1, pool: "platform", cpu: s.cpu, mem: s.mem, port: s.port,
			image: s.image, service: corev1.ServiceTypeClusterIP}
		if s.name == "keycloak" {
			a.replicas = 2
		}
		if s.lb {
			a.service = corev1.ServiceTypeLoadBalancer
		}
		if s.claim != "" {
			b.claim(s.ns, s.claim, s.size)
			a.volumes = vol(s.claim, "/data")
		}
		b.app(a)
	}
}

func (b *builder) nextstep() {
	// nextstep and nextstep-factory both ship an "app-config" ConfigMap:
	// merged into nextstep-prod, the names collide.
	b.add(configMap("nextstep", "app-config", nil, map[string]string{"LOG_LEVEL": "info", "FEATURE_FLAGS": "checkout,referrals"}))
	b.add(configMap("nextstep-factory", "app-config", nil, map[string]string{"LOG_LEVEL": "debug",
		"NEXTSTEP_API": "http://nextstep-api.nextstep.svc.cluster.local:8080"}))
	b.app(app{ns: "nextstep", name: "nextstep-api", replicas: 3, pool: "applications", cpu: "250m", mem: "512Mi", port: 8080,
		service: corev1.ServiceTypeLoadBalancer, envFrom: []string{"app-config"}})
	b.app(app{ns: "nextstep", name: "nextstep-worker", replicas: 2, pool: "applications", cpu: "250m", mem: "512Mi",
		envFrom: []string{"app-config"}})
	b.app(app{ns: "nextstep", name: "nextstep-web", replicas: 2, pool: "applications", cpu: "100m", mem: "128Mi", port: 3000,
		service: corev1.ServiceTypeClusterIP})
	b.add(ingress("nextstep", "nextstep-web", "app.nextstep.io", "/", "nextstep-web", 3000, nil))

	// The factory reaches the API through its old namespace's DNS name, a
	// reference that breaks when the namespaces merge.
	b.app(app{ns: "nextstep-factory", name: "factory-api", replicas: 2, pool: "applications", cpu: "200m", mem: "256Mi",
		port: 8080, service: corev1.ServiceTypeClusterIP, envFrom: []string{"app-config"},
		env: []corev1.EnvVar{{Name: "NEXTSTEP_API_URL", Value: "http://nextstep-api.nextstep.svc.cluster.local:8080"}}})
	b.app(app{ns: "nextstep-factory", name: "factory-worker", replicas: 2, pool: "applications", cpu: "200m", mem: "256Mi",
		envFrom: []string{"app-config"}})
	// An export volume nothing mounts any more.
	b.claim("nextstep-factory", "factory-exports-old", "8Gi")

	b.claim("nextstep-dev", "data-nextstep-db-0", "8Gi")
	b.app(app{ns: "nextstep-dev", name: "nextstep-db", kind: "StatefulSet", replicas: 1, pool: "applications", cpu: "250m",
		mem: "512Mi", port: 5432, svcPortName: "postgres", image: "docker.io/library/postgres:16.8",
		service: corev1.ServiceTypeClusterIP, volumes: vol("data-nextstep-db-0", "/var/lib/postgresql/data")})
	b.app(app{ns: "nextstep-dev", name: "nextstep-api", replicas: 1, pool: "applications", cpu: "100m", mem: "256Mi", port: 8080,
		service: corev1.ServiceTypeLoadBalancer})
	b.app(app{ns: "nextstep-dev", name: "nextstep-web", replicas: 1, pool: "applications", cpu: "100m", mem: "128Mi", port: 3000,
		service: corev1.ServiceTypeClusterIP})

	// The affiliation team deploys with its own ServiceAccount, bound by a
	// RoleBinding whose subject names the namespace.
	b.add(serviceAccount("nextstep-affiliation", "deployer", nil, nil))
	b.add(roleBinding("nextstep-affiliation", "deployer-edit", nil, "ClusterRole", "edit",
		rbacv1.Subject{Kind: "ServiceAccount", Name: "deployer", Namespace: "nextstep-affiliation"}))
	b.app(app{ns: "nextstep-affiliation", name: "affiliation-api", replicas: 1, pool: "applications", cpu: "100m", mem: "256Mi",
		port: 8080, service: corev1.ServiceTypeClusterIP})

	b.claim("nextstep-data", "warehouse", "25Gi")
	b.app(app{ns: "nextstep-data", name: "etl-worker", replicas: 1, pool: "applications", cpu: "250m", mem: "512Mi",
		volumes: vol("warehouse", "/warehouse")})
	b.app(app{ns: "nextstep-data", name: "nightly-export", kind: "CronJob", schedule: "30 3 1 * *", pool: "applications",
		cpu: "100m", mem: "256Mi", volumes: vol("warehouse", "/warehouse")})
}

func (b *builder) kvibes() {
	b.add(configMap("kvibe-prod", "kvibe-config", nil, map[string]string{"ENV": "production"}))
	b.add(configMap("kvibe-staging", "kvibe-config", nil, map[string]string{"ENV": "staging"}))
	b.claim("kvibe-prod", "kvibe-uploads", "10Gi")
	b.app(app{ns: "kvibe-prod", name: "kvibe-frontend", replicas: 2, pool: "saas", cpu: "100m", mem: "128Mi", port: 3000,
		service: corev1.ServiceTypeLoadBalancer, envFrom: []string{"kvibe-config"}})
	b.app(app{ns: "kvibe-prod", name: "kvibe-backend", replicas: 2, pool: "saas", cpu: "200m", mem: "384Mi", port: 8080,
		service: corev1.ServiceTypeClusterIP, envFrom: []string{"kvibe-config"}, volumes: vol("kvibe-uploads", "/uploads")})
	b.add(ingress("kvibe-prod", "kvibe", "kvibe.io", "/", "kvibe-frontend", 80, nil))

	b.add(serviceAccount("kvibe-staging", "ci-deployer", nil, nil))
	b.add(roleBinding("kvibe-staging", "ci-deployer-edit", nil, "ClusterRole", "edit",
		rbacv1.Subject{Kind: "ServiceAccount", Name: "ci-deployer", Namespace: "kvibe-staging"}))
	b.app(app{ns: "kvibe-staging", name: "kvibe-frontend", replicas: 1, pool: "saas", cpu: "100m", mem: "128Mi", port: 3000,
		service: corev1.ServiceTypeLoadBalancer, envFrom: []string{"kvibe-config"}})
	b.app(app{ns: "kvibe-staging", name: "kvibe-backend", replicas: 1, pool: "saas", cpu: "100m", mem: "256Mi", port: 8080,
		service: corev1.ServiceTypeClusterIP, envFrom: []string{"kvibe-config"}})
	b.add(ingress("kvibe-staging", "kvibe", "staging.kvibe.io", "/", "kvibe-frontend", 80, nil))

	b.app(app{ns: "kvibes-dev", name: "kvibes-app", replicas: 1, pool: "saas", cpu: "100m", mem: "256Mi", port: 8080,
		service: corev1.ServiceTypeClusterIP})
	b.app(app{ns: "kvibes-dev", name: "kvibes-worker", replicas: 1, pool: "saas", cpu: "100m", mem: "256Mi"})
}

func (b *builder) onlyoneapi() {
	// The public API crash-loops: its image lost the e-mail templates.
	b.app(app{ns: "onlyoneapi-prod", name: "public-api", replicas: 1, pool: "api", cpu: "250m", mem: "512Mi", port: 8080,
		service: corev1.ServiceTypeLoadBalancer,
		podAnnots: map[string]string{
			"kwok.purser.dev/crashloop": "true",
			"kwok.purser.dev/restarts":  "301",
			"kwok.purser.dev/exit-code": "1",
			"kwok.purser.dev/reason":    "Error",
			"kwok.purser.dev/message":   "Error: ENOENT: no such file or directory, open '/app/templates/emails/welcome.hbs'",
		},
		note: "seed fault: CrashLoopBackOff, 301 restarts, e-mail templates missing from the image"})
	b.app(app{ns: "onlyoneapi-prod", name: "onlyoneapi-api", replicas: 3, pool: "api", cpu: "250m", mem: "512Mi", port: 8080,
		service: corev1.ServiceTypeClusterIP})
	b.app(app{ns: "onlyoneapi-prod", name: "onlyoneapi-gateway", replicas: 2, pool: "api", cpu: "100m", mem: "128Mi", port: 8080,
		service: corev1.ServiceTypeClusterIP})
	b.app(app{ns: "onlyoneapi-portal", name: "portal", replicas: 2, pool: "saas", cpu: "100m", mem: "256Mi", port: 3000,
		service: corev1.ServiceTypeLoadBalancer,
		env:     []corev1.EnvVar{{Name: "API_BASE", Value: "http://onlyoneapi-gateway.onlyoneapi-prod.svc.cluster.local:8080"}}})
	b.app(app{ns: "onlyoneapi-docs", name: "docs", replicas: 1, pool: "applications", cpu: "50m", mem: "64Mi", port: 8080,
		service: corev1.ServiceTypeClusterIP})
	b.app(app{ns: "onlyoneapi-dev", name: "onlyoneapi-api", replicas: 1, pool: "applications", cpu: "100m", mem: "256Mi",
		port: 8080, service: corev1.ServiceTypeClusterIP})
	b.app(app{ns: "onlyoneapi-dev", name: "public-api", replicas: 1, pool: "applications", cpu: "100m", mem: "256Mi",
		port: 8080, service: corev1.ServiceTypeClusterIP})
	b.app(app{ns: "onlyoneapi-sandbox", name: "sandbox-api", replicas: 1, pool: "applications", cpu: "100m", mem: "128Mi",
		port: 8080, service: corev1.ServiceTypeClusterIP})
}

func (b *builder) others() {
	// The infra node: these requests add up to 7,720m of its 7,900m
	// allocatable; with kube-system's 120m per node, 60m remain.
	infra := []struct {
		ns, name, cpu, mem string
		port               int32
		lb                 bool
	}{
		{"ingress-nginx", "ingress-nginx-controller", "2", "1Gi", 80, true},
		{"argocd", "argocd-server", "1", "512Mi", 8080, false},
		{"argocd", "argocd-repo-server", "2", "1Gi", 8081, false},
		{"argocd", "argocd-application-controller", "2500m", "2Gi", 8082, false},
		{"cert-manager", "cert-manager", "100m", "128Mi", 9402, false},
		{"external-dns", "external-dns", "50m", "64Mi", 7979, false},
		{"sealed-secrets", "sealed-secrets-controller", "50m", "64Mi", 8080, false},
		{"velero", "velero", "20m", "128Mi", 8085, false},
	}
	for _, a := range infra {
		t := corev1.ServiceTypeClusterIP
		if a.lb {
			t = corev1.ServiceTypeLoadBalancer
		}
		b.app(app{ns: a.ns, name: a.name, replicas: 1, pool: "infra", cpu: a.cpu, mem: a.mem, port: a.port, service: t})
	}

	// Dev environments scaled to 0 while postgres-central refused their logins.
	for _, ns := range []string{"konqer", "kreach"} {
		b.app(app{ns: ns + "-dev", name: ns + "-api", replicas: 0, pool: "saas", cpu: "100m", mem: "256Mi", port: 8080,
			note: "seed: scaled to 0 after postgres-central authentication failures"})
	}

	apps := []struct {
		ns, name, cpu, mem, claim, size string
		replicas                        int32
	}{
		{"n8n", "n8n", "250m", "512Mi", "", "", 1},
		{"metabase", "metabase", "500m", "1Gi", "", "", 1},
		{"sentry", "sentry-web", "500m", "1Gi", "", "", 1},
		{"sentry", "sentry-worker", "500m", "1Gi", "", "", 1},
		{"plausible", "plausible", "250m", "512Mi", "", "", 1},
		{"wordpress", "wordpress", "250m", "256Mi", "wordpress", "10Gi", 1},
		{"directus", "directus", "250m", "256Mi", "", "", 1},
		{"umami", "umami", "100m", "128Mi", "", "", 1},
	}
	for _, a := range apps {
		x := app{ns: a.ns, name: a.name, replicas: a.replicas, pool: "applications", cpu: a.cpu, mem: a.mem, port: 8080,
			service: corev1.ServiceTypeClusterIP}
		if a.claim != "" {
			b.claim(a.ns, a.claim, a.size)
			x.volumes = vol(a.claim, "/data")
		}
		b.app(x)
	}
}
