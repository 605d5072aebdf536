package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/snapshot"
)

func ptr[T any](v T) *T { return &v }

// devSnapshot is a dev namespace: web (3 replicas), api (which names the
// db StatefulSet's Service), front (scaled by an HPA), db and a CronJob.
// edit changes it before it is indexed.
func devSnapshot(edit func(s *snapshot.Snapshot)) *snapshot.Index {
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: "dev", Name: name} }
	deploy := func(name string, n int32, env ...corev1.EnvVar) appsv1.Deployment {
		d := appsv1.Deployment{ObjectMeta: meta(name), Spec: appsv1.DeploymentSpec{Replicas: ptr(n)}}
		d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "c", Env: env}}
		return d
	}
	s := &snapshot.Snapshot{
		Namespaces: []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "dev", Labels: map[string]string{"environment": "development"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "prod"}}},
		Deployments: []appsv1.Deployment{
			deploy("web", 3), deploy("api", 2, corev1.EnvVar{Name: "DB", Value: "postgres://db.dev.svc.cluster.local:5432/app"}), deploy("front", 4),
		},
		StatefulSets: []appsv1.StatefulSet{{ObjectMeta: meta("db"), Spec: appsv1.StatefulSetSpec{Replicas: ptr(int32(1)), ServiceName: "db"}}},
		CronJobs:     []batchv1.CronJob{{ObjectMeta: meta("report")}},
		HPAs: []autoscalingv2.HorizontalPodAutoscaler{{ObjectMeta: meta("front"), Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "front", APIVersion: "apps/v1"},
			MinReplicas:    ptr(int32(2)), MaxReplicas: 6}}},
	}
	prod := deploy("shop", 5)
	prod.Namespace = "prod"
	s.Deployments = append(s.Deployments, prod)
	if edit != nil {
		edit(s)
	}
	return snapshot.NewIndex(s)
}

func deployment(s *snapshot.Snapshot, name string) *appsv1.Deployment {
	for i := range s.Deployments {
		if s.Deployments[i].Name == name && s.Deployments[i].Namespace == "dev" {
			return &s.Deployments[i]
		}
	}
	panic(name)
}

// asleep marks every dev workload as a night run leaves it.
func asleep(s *snapshot.Snapshot) {
	for i := range s.Deployments {
		d := &s.Deployments[i]
		if d.Namespace == "dev" {
			d.Annotations = map[string]string{AnnoOriginalReplicas: fmt.Sprint(*d.Spec.Replicas), AnnoBy: BySchedule}
			d.Spec.Replicas = ptr(int32(0))
		}
	}
	s.StatefulSets[0].Annotations = map[string]string{AnnoOriginalReplicas: "1"}
	s.StatefulSets[0].Spec.Replicas = ptr(int32(0))
	s.CronJobs[0].Annotations = map[string]string{AnnoOriginalSuspend: "false"}
	s.CronJobs[0].Spec.Suspend = ptr(true)
}

var (
	night = utc("2026-01-05T21:00:00Z") // a Monday
	day   = utc("2026-01-06T09:00:00Z")
)

func devConfig() Config {
	return Config{Schedules: []Rule{{Name: "dev-nights", Schedule: "Mon-Fri 20:00-08:00 UTC", Environments: []string{"development"}}}}
}

// summary is "action target" per workload, in the plan's order.
func summary(p *Plan) string {
	var b []string
	for _, d := range p.Decisions {
		b = append(b, fmt.Sprintf("%s %s %d", d.Workload, d.Action, d.Target))
	}
	return strings.Join(b, "; ")
}

func TestDecide(t *testing.T) {
	t.Parallel()
	argo := GitOpsObject{Ref: Ref{"Application", "argocd", "web-app"}, SelfHeal: true}
	argoLabel := func(s *snapshot.Snapshot) {
		deployment(s, "web").Labels = map[string]string{"app.kubernetes.io/instance": "web-app"}
	}
	for _, tc := range []struct {
		name       string
		edit       func(*snapshot.Snapshot)
		cfg        func(*Config)
		now        time.Time
		gitops     []GitOpsObject
		force      *Force
		want       string // summary
		reason     map[string]string
		gitopsWant string
	}{
		{name: "night sleeps, dependents before the database", now: night,
			want: "Deployment/dev/web sleep 0; Deployment/dev/api sleep 0; Deployment/dev/front sleep 0; CronJob/dev/report sleep 1; " +
				"StatefulSet/dev/db sleep 0; Deployment/prod/shop keep 5",
			reason: map[string]string{"Deployment/prod/shop": "no schedule", "Deployment/dev/web": "until 2026-01-06T08:00:00Z"}},
		{name: "day keeps", now: day,
			want: "Deployment/dev/web keep 3; Deployment/dev/api keep 2; Deployment/dev/front keep 4; Deployment/prod/shop keep 5; StatefulSet/dev/db keep 1; CronJob/dev/report keep 0"},
		{name: "morning wakes the database first", now: day, edit: asleep,
			want: "StatefulSet/dev/db wake 1; Deployment/dev/web wake 3; Deployment/dev/api wake 2; Deployment/dev/front wake 4; CronJob/dev/report wake 0; Deployment/prod/shop keep 5"},
		{name: "asleep at night stays", now: night, edit: asleep,
			want: "Deployment/dev/web keep 0; Deployment/dev/api keep 0; Deployment/dev/front keep 0; Deployment/prod/shop keep 5; StatefulSet/dev/db keep 0; CronJob/dev/report keep 1"},
		{name: "manual change during the night wins", now: day, edit: func(s *snapshot.Snapshot) {
			asleep(s)
			deployment(s, "web").Spec.Replicas = ptr(int32(1))
		}, want: "StatefulSet/dev/db wake 1; Deployment/dev/web wake 1; Deployment/dev/api wake 2; Deployment/dev/front wake 4; CronJob/dev/report wake 0; Deployment/prod/shop keep 5",
			reason: map[string]string{"Deployment/dev/web": "changed by hand to 1"}},
		{name: "exclusions", now: night, edit: func(s *snapshot.Snapshot) {
			deployment(s, "web").Annotations = map[string]string{AnnoExclude: "true"}
			deployment(s, "api").Annotations = map[string]string{AnnoExcludeUntil: "2026-01-07T00:00:00Z"}
			deployment(s, "front").Annotations = map[string]string{AnnoExcludeUntil: "2026-01-01T00:00:00Z"}
		}, want: "Deployment/dev/front sleep 0; CronJob/dev/report sleep 1; StatefulSet/dev/db sleep 0; Deployment/dev/web keep 3; Deployment/dev/api keep 2; Deployment/prod/shop keep 5",
			reason: map[string]string{"Deployment/dev/web": "excluded by", "Deployment/dev/api": "excluded until 2026-01-07"}},
		{name: "malformed annotations touch nothing of theirs", now: night, edit: func(s *snapshot.Snapshot) {
			deployment(s, "web").Annotations = map[string]string{AnnoSchedule: "Mon-Fry 20:00-08:00 UTC"}
			deployment(s, "api").Annotations = map[string]string{AnnoExcludeUntil: "tomorrow"}
			s.StatefulSets[0].Annotations = map[string]string{AnnoExclude: "yes please"}
		}, want: "Deployment/dev/front sleep 0; CronJob/dev/report sleep 1; Deployment/dev/web error 0; Deployment/dev/api error 0; Deployment/prod/shop keep 5; StatefulSet/dev/db error 0",
			reason: map[string]string{"Deployment/dev/web": `Deployment/dev/web: annotation purser.dev/downscale-schedule on Deployment/dev/web: schedule "Mon-Fry 20:00-08:00 UTC"`,
				"Deployment/dev/api": "Deployment/dev/api: annotation purser.dev/downscale-exclude-until=\"tomorrow\"",
				"StatefulSet/dev/db": "StatefulSet/dev/db: annotation purser.dev/downscale-exclude=\"yes please\""}},
		{name: "a malformed namespace annotation names the namespace", now: night, edit: func(s *snapshot.Snapshot) {
			s.Namespaces[0].Annotations = map[string]string{AnnoSchedule: "nightly"}
		}, want: "Deployment/dev/web error 0; Deployment/dev/api error 0; Deployment/dev/front error 0; Deployment/prod/shop keep 5; StatefulSet/dev/db error 0; CronJob/dev/report error 0",
			reason: map[string]string{"Deployment/dev/web": "on Namespace/dev"}},
		{name: "an annotation overrides the config", now: day, edit: func(s *snapshot.Snapshot) {
			deployment(s, "web").Annotations = map[string]string{AnnoSchedule: "Tue 08:30-10:00 UTC"}
			s.Namespaces[1].Annotations = map[string]string{AnnoSchedule: "Mon-Sun 00:00-24:00 UTC"}
		}, want: "Deployment/dev/web sleep 0; Deployment/prod/shop sleep 0; Deployment/dev/api keep 2; Deployment/dev/front keep 4; StatefulSet/dev/db keep 1; CronJob/dev/report keep 0"},
		{name: "awake on request", now: night, edit: func(s *snapshot.Snapshot) {
			s.Namespaces[0].Annotations = map[string]string{AnnoAwakeUntil: "2026-01-05T23:00:00Z"}
		}, want: "Deployment/dev/web keep 3; Deployment/dev/api keep 2; Deployment/dev/front keep 4; Deployment/prod/shop keep 5; StatefulSet/dev/db keep 1; CronJob/dev/report keep 0",
			reason: map[string]string{"Deployment/dev/web": "awake on request until 2026-01-05T23:00:00Z"}},
		{name: "awake on request, expired", now: night.Add(3 * time.Hour), edit: func(s *snapshot.Snapshot) {
			s.Namespaces[0].Annotations = map[string]string{AnnoAwakeUntil: "2026-01-05T23:00:00Z"}
		}, want: "Deployment/dev/web sleep 0; Deployment/dev/api sleep 0; Deployment/dev/front sleep 0; CronJob/dev/report sleep 1; StatefulSet/dev/db sleep 0; Deployment/prod/shop keep 5"},
		{name: "downtime replicas lower the HPA instead", now: night, cfg: func(c *Config) { c.DowntimeReplicas = 1 },
			want:   "Deployment/dev/web sleep 1; Deployment/dev/api sleep 1; Deployment/dev/front sleep 1; CronJob/dev/report sleep 1; Deployment/prod/shop keep 5; StatefulSet/dev/db keep 1",
			reason: map[string]string{"StatefulSet/dev/db": "already at 1"}},
		{name: "Argo CD self-heal is skipped by default", now: night, edit: argoLabel, gitops: []GitOpsObject{argo},
			want:   "Deployment/dev/api sleep 0; Deployment/dev/front sleep 0; CronJob/dev/report sleep 1; StatefulSet/dev/db sleep 0; Deployment/dev/web keep 3; Deployment/prod/shop keep 5",
			reason: map[string]string{"Deployment/dev/web": "skipped: managed by Application/argocd/web-app with self-heal (label app.kubernetes.io/instance): it would scale it back up (gitops: skip"}},
		{name: "Argo CD without self-heal does not fight", now: night, edit: argoLabel, gitops: []GitOpsObject{{Ref: argo.Ref}},
			want: "Deployment/dev/web sleep 0; Deployment/dev/api sleep 0; Deployment/dev/front sleep 0; CronJob/dev/report sleep 1; StatefulSet/dev/db sleep 0; Deployment/prod/shop keep 5"},
		{name: "Argo CD paused with gitops: pause", now: night, edit: argoLabel, gitops: []GitOpsObject{argo}, cfg: func(c *Config) { c.GitOps = GitOpsPause },
			want:       "Deployment/dev/web sleep 0; Deployment/dev/api sleep 0; Deployment/dev/front sleep 0; CronJob/dev/report sleep 1; StatefulSet/dev/db sleep 0; Deployment/prod/shop keep 5",
			gitopsWant: "pause Application/argocd/web-app"},
		{name: "Argo CD resumed once its workloads wake", now: day, edit: func(s *snapshot.Snapshot) { asleep(s); argoLabel(s) },
			gitops: []GitOpsObject{{Ref: argo.Ref, Paused: true}}, cfg: func(c *Config) { c.GitOps = GitOpsPause },
			want:       "StatefulSet/dev/db wake 1; Deployment/dev/web wake 3; Deployment/dev/api wake 2; Deployment/dev/front wake 4; CronJob/dev/report wake 0; Deployment/prod/shop keep 5",
			gitopsWant: "resume Application/argocd/web-app"},
		{name: "Argo CD stays paused while asleep", now: night, edit: func(s *snapshot.Snapshot) { asleep(s); argoLabel(s) },
			gitops: []GitOpsObject{{Ref: argo.Ref, Paused: true}}, cfg: func(c *Config) { c.GitOps = GitOpsPause },
			want: "Deployment/dev/web keep 0; Deployment/dev/api keep 0; Deployment/dev/front keep 0; Deployment/prod/shop keep 5; StatefulSet/dev/db keep 0; CronJob/dev/report keep 1"},
		{name: "tracking id of an Application the cluster lacks", now: night, edit: func(s *snapshot.Snapshot) {
			deployment(s, "web").Annotations = map[string]string{"argocd.argoproj.io/tracking-id": "gone:apps/Deployment:dev/web"}
		}, gitops: []GitOpsObject{argo}, cfg: func(c *Config) { c.GitOps = GitOpsPause },
			want:   "Deployment/dev/api sleep 0; Deployment/dev/front sleep 0; CronJob/dev/report sleep 1; StatefulSet/dev/db sleep 0; Deployment/dev/web keep 3; Deployment/prod/shop keep 5",
			reason: map[string]string{"Deployment/dev/web": "Application gone (annotation argocd.argoproj.io/tracking-id), which the cluster does not have"}},
		{name: "Flux Kustomization", now: night, edit: func(s *snapshot.Snapshot) {
			deployment(s, "web").Labels = map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
		}, gitops: []GitOpsObject{{Ref: Ref{"Kustomization", "flux-system", "apps"}}}, cfg: func(c *Config) { c.GitOps = GitOpsPause },
			want:       "Deployment/dev/web sleep 0; Deployment/dev/api sleep 0; Deployment/dev/front sleep 0; CronJob/dev/report sleep 1; StatefulSet/dev/db sleep 0; Deployment/prod/shop keep 5",
			gitopsWant: "pause Kustomization/flux-system/apps"},
		{name: "forced sleep ignores the hour", now: day, force: &Force{Sleep: true, Namespaces: []string{"prod"}, Reason: "budget"},
			want: "Deployment/prod/shop sleep 0", reason: map[string]string{"Deployment/prod/shop": "budget"}},
		{name: "a scheduled run leaves a requested sleep", now: day, edit: func(s *snapshot.Snapshot) {
			asleep(s)
			deployment(s, "web").Annotations[AnnoBy] = ByRequest
		}, want: "StatefulSet/dev/db wake 1; Deployment/dev/api wake 2; Deployment/dev/front wake 4; CronJob/dev/report wake 0; Deployment/dev/web keep 0; Deployment/prod/shop keep 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := devConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			p := Decide(Input{Index: devSnapshot(tc.edit), Config: cfg, Now: tc.now, GitOps: tc.gitops, GitOpsKnown: true, Force: tc.force})
			if got := summary(p); got != tc.want {
				t.Errorf("decisions:\n got %s\nwant %s", got, tc.want)
			}
			for _, d := range p.Decisions {
				if want, ok := tc.reason[d.Workload.String()]; ok && !strings.Contains(d.Reason, want) {
					t.Errorf("%s: reason %q, want it to contain %q", d.Workload, d.Reason, want)
				}
				if d.Workload.Name == "api" && (len(d.DependsOn) != 1 || d.DependsOn[0].Name != "db") {
					t.Errorf("api depends on %v, want the db StatefulSet", d.DependsOn)
				}
			}
			var g []string
			for _, d := range p.GitOps {
				g = append(g, d.Action+" "+d.Object.String())
			}
			if got := strings.Join(g, "; "); got != tc.gitopsWant {
				t.Errorf("gitops: got %q, want %q", got, tc.gitopsWant)
			}
		})
	}
}
