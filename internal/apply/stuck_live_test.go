package apply_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/purserhq/purser/internal/apply"
	"github.com/purserhq/purser/internal/testcluster"
)

// TestNamespaceHoldsLive: the emptiness check before each deletion finds
// what the namespace controller would have to delete, custom resources
// included, and nothing of what Kubernetes puts in every namespace. It
// keeps to its own namespaces.
func TestNamespaceHoldsLive(t *testing.T) {
	c := testcluster.Require(t, cluster)
	ctx := t.Context()
	kube, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"apply-holds-empty", "apply-holds-full"} {
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	}
	// The default ServiceAccount and kube-root-ca.crt arrive from the
	// controllers; a legacy token Secret of the default ServiceAccount is
	// a default too, another ServiceAccount's is content.
	token := func(name, sa string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{corev1.ServiceAccountNameKey: sa}},
			Type: corev1.SecretTypeServiceAccountToken}
	}
	if _, err := kube.CoreV1().Secrets("apply-holds-empty").Create(ctx, token("default-token", "default"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	full := "apply-holds-full"
	if _, err := kube.CoreV1().ServiceAccounts(full).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.CoreV1().Secrets(full).Create(ctx, token("robot-token", "robot"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.CoreV1().Secrets(full).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "opaque"}, StringData: map[string]string{"k": "v"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Kubectl(ctx, "create", "role", "reader", "-n", full, "--verb=get", "--resource=pods"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		cms, err := kube.CoreV1().ConfigMaps("apply-holds-empty").List(ctx, metav1.ListOptions{})
		if err == nil && len(cms.Items) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("kube-root-ca.crt never arrived")
		}
		time.Sleep(200 * time.Millisecond)
	}
	found, unknown, err := apply.NamespaceHolds(ctx, c.Config, "apply-holds-empty")
	if err != nil || len(found) != 0 || len(unknown) != 0 {
		t.Errorf("an empty namespace holds %v, unknown %v, %v", found, unknown, err)
	}
	found, unknown, err = apply.NamespaceHolds(ctx, c.Config, full)
	want := []string{"Role reader", "Secret opaque", "Secret robot-token", "ServiceAccount robot"}
	if err != nil || !slices.Equal(found, want) || len(unknown) != 0 {
		t.Errorf("a full namespace holds %v, unknown %v, %v; want %v", found, unknown, err, want)
	}
}

// TestStuckTerminatingLive: a namespace whose content keeps a finalizer
// stays Terminating; the wait ends at its bound and says what the
// namespace controller waits for, and the finalizer is left in place.
func TestStuckTerminatingLive(t *testing.T) {
	c := testcluster.Require(t, cluster)
	ctx := t.Context()
	kube, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	const name, hold = "apply-stuck", "purser.dev/test-hold"
	ns, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{hold}}}
	if _, err := kube.CoreV1().ConfigMaps(name).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	release := func() {
		_, _ = kube.CoreV1().ConfigMaps(name).Patch(context.Background(), "held", types.JSONPatchType,
			[]byte(`[{"op":"remove","path":"/metadata/finalizers"}]`), metav1.PatchOptions{})
	}
	t.Cleanup(release)
	if err := kube.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var werr error
	for range 30 {
		// The controller sets its conditions once it has tried to empty
		// the namespace; wait until it says what holds it.
		werr = apply.WaitGone(ctx, c.Config, name, string(ns.UID), 2*time.Second)
		if werr != nil && strings.Contains(werr.Error(), hold) {
			break
		}
	}
	for _, want := range []string{"namespace apply-stuck is still Terminating after 2s", "never stripped by purser",
		"NamespaceFinalizersRemaining: Some content in the namespace has finalizers remaining: " + hold} {
		if werr == nil || !strings.Contains(werr.Error(), want) {
			t.Errorf("the wait says %v, want %q", werr, want)
		}
	}
	got, err := kube.CoreV1().ConfigMaps(name).Get(ctx, "held", metav1.GetOptions{})
	if err != nil || !slices.Contains(got.Finalizers, hold) {
		t.Errorf("the finalizer is gone: %v %v", got, err)
	}
	release()
	if err := apply.WaitGone(ctx, c.Config, name, string(ns.UID), time.Minute); err != nil {
		t.Errorf("released, the namespace did not go: %v", err)
	}
}
