package sourcefix

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testcluster"
)

const (
	// helmVersion is the Makefile's HELM_VERSION: where `make helm` puts
	// the binary when PURSER_HELM does not name one.
	helmVersion    = "v3.22.0"
	envHelm        = "PURSER_HELM"
	envRequireHelm = "PURSER_REQUIRE_HELM"
)

// helmBinary finds helm as deploy/helm's tests do, or skips the test
// without it (fails when required, as make test requires it).
func helmBinary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(envHelm)
	if bin == "" {
		bin = filepath.Join(repoRoot(t), ".cache", "helm", helmVersion, "helm")
	}
	if _, err := os.Stat(bin); err != nil {
		msg := fmt.Sprintf("no helm at %s: build it with `make helm` (or set %s)", bin, envHelm)
		if os.Getenv(envRequireHelm) == "1" || os.Getenv(testcluster.EnvRequire) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}

func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// res builds resources from "cpu=100m,memory=1Gi" style lists.
func res(requests, limits map[string]string) corev1.ResourceRequirements {
	list := func(m map[string]string) corev1.ResourceList {
		if m == nil {
			return nil
		}
		l := corev1.ResourceList{}
		for k, v := range m {
			l[corev1.ResourceName(k)] = resource.MustParse(v)
		}
		return l
	}
	return corev1.ResourceRequirements{Requests: list(requests), Limits: list(limits)}
}

func container(name string, r corev1.ResourceRequirements) corev1.Container {
	return corev1.Container{Name: name, Image: "example.com/" + name, Resources: r}
}

func meta(ns, name string, labels, anns map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name), Labels: labels, Annotations: anns}
}

func controlledBy(m metav1.ObjectMeta, kind, name string) metav1.ObjectMeta {
	yes := true
	m.OwnerReferences = []metav1.OwnerReference{{Kind: kind, Name: name, UID: types.UID("uid-" + m.Namespace + "-" + name), Controller: &yes}}
	return m
}

func deployment(m metav1.ObjectMeta, cs ...corev1.Container) appsv1.Deployment {
	d := appsv1.Deployment{ObjectMeta: m}
	d.Spec.Template.Spec.Containers = cs
	return d
}

// withChain adds a ReplicaSet and a Pod under the Deployment d.
func withChain(s *snapshot.Snapshot, d appsv1.Deployment) {
	s.Deployments = append(s.Deployments, d)
	rs := appsv1.ReplicaSet{ObjectMeta: controlledBy(meta(d.Namespace, d.Name+"-7d9f", nil, nil), "Deployment", d.Name)}
	rs.Spec.Template = d.Spec.Template
	s.ReplicaSets = append(s.ReplicaSets, rs)
	p := corev1.Pod{ObjectMeta: controlledBy(meta(d.Namespace, d.Name+"-7d9f-x2x4q", nil, nil), "ReplicaSet", rs.Name), Spec: d.Spec.Template.Spec}
	s.Pods = append(s.Pods, p)
}

func cronJob(m metav1.ObjectMeta, cs ...corev1.Container) (batchv1.CronJob, batchv1.Job) {
	cj := batchv1.CronJob{ObjectMeta: m}
	cj.Spec.JobTemplate.Spec.Template.Spec.Containers = cs
	j := batchv1.Job{ObjectMeta: controlledBy(meta(m.Namespace, m.Name+"-2901", nil, nil), "CronJob", m.Name)}
	j.Spec.Template = cj.Spec.JobTemplate.Spec.Template
	return cj, j
}

func fileData(t *testing.T, r *Result, path string) []byte {
	t.Helper()
	for _, f := range r.Files {
		if f.Path == path {
			return f.Data
		}
	}
	var have []string
	for _, f := range r.Files {
		have = append(have, f.Path)
	}
	t.Fatalf("no file %s among %v", path, have)
	return nil
}
