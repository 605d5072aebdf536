package faultproxy_test

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/purserhq/purser/internal/testutil/faultproxy"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, path, contentType string
		want                      faultproxy.Request
	}{
		{"GET", "/api/v1/namespaces/a/configmaps/x", "", faultproxy.Request{Verb: "get", Resource: "configmaps", Namespace: "a", Name: "x"}},
		{"GET", "/api/v1/namespaces/a/configmaps", "", faultproxy.Request{Verb: "list", Resource: "configmaps", Namespace: "a"}},
		{"GET", "/api/v1/configmaps?watch=true", "", faultproxy.Request{Verb: "watch", Resource: "configmaps"}},
		{"GET", "/api/v1/namespaces/a", "", faultproxy.Request{Verb: "get", Resource: "namespaces", Name: "a"}},
		{"PUT", "/api/v1/namespaces/a/finalize", "", faultproxy.Request{Verb: "update", Resource: "namespaces", Name: "a", Subresource: "finalize"}},
		{"DELETE", "/api/v1/namespaces/a", "", faultproxy.Request{Verb: "delete", Resource: "namespaces", Name: "a"}},
		{"POST", "/apis/apps/v1/namespaces/a/deployments", "", faultproxy.Request{Verb: "create", Group: "apps", Resource: "deployments", Namespace: "a"}},
		{"PATCH", "/apis/apps/v1/namespaces/a/deployments/d/scale", "application/merge-patch+json", faultproxy.Request{Verb: "patch", Group: "apps", Resource: "deployments", Namespace: "a", Name: "d", Subresource: "scale"}},
		{"PATCH", "/api/v1/persistentvolumes/pv1", "application/apply-patch+yaml", faultproxy.Request{Verb: "apply", Resource: "persistentvolumes", Name: "pv1"}},
		{"DELETE", "/api/v1/namespaces/a/pods", "", faultproxy.Request{Verb: "deletecollection", Resource: "pods", Namespace: "a"}},
		{"GET", "/version", "", faultproxy.Request{Verb: "get"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			if got := faultproxy.Parse(r); got != tt.want {
				t.Errorf("Parse = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// upstream is a fake API server that records what reached it and answers
// every request with a ConfigMap.
type upstream struct {
	mu    sync.Mutex
	seen  []string
	auths []string
	srv   *httptest.Server
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		u.mu.Lock()
		u.seen = append(u.seen, r.Method+" "+r.URL.Path)
		u.auths = append(u.auths, r.Header.Get("Authorization"))
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "a", UID: types.UID("uid-x")}})
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.seen)
}

func (u *upstream) config() *rest.Config {
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: u.srv.Certificate().Raw})
	return &rest.Config{Host: u.srv.URL, BearerToken: "upstream-token", TLSClientConfig: rest.TLSClientConfig{CAData: ca}}
}

func start(t *testing.T, u *upstream, o faultproxy.Options) (*faultproxy.Proxy, kubernetes.Interface) {
	t.Helper()
	p, err := faultproxy.Start(u.config(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	cfg := p.Config()
	cfg.Timeout = 2 * time.Second
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, kube
}

func get(t *testing.T, kube kubernetes.Interface) error {
	_, err := kube.CoreV1().ConfigMaps("a").Get(t.Context(), "x", metav1.GetOptions{})
	return err
}

func TestForwardsWithUpstreamCredentials(t *testing.T) {
	t.Parallel()
	u := newUpstream(t)
	_, kube := start(t, u, faultproxy.Options{})
	if err := get(t, kube); err != nil {
		t.Fatal(err)
	}
	if u.count() != 1 || u.auths[0] != "Bearer upstream-token" {
		t.Errorf("upstream saw %v with %v", u.seen, u.auths)
	}
}

func TestStatusFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault faultproxy.Fault
		is    func(error) bool
		// retried faults carry Retry-After: the client tries again and
		// the second request goes through.
		retried bool
	}{
		{faultproxy.Conflict, apierrors.IsConflict, false},
		{faultproxy.InternalError, apierrors.IsInternalError, false},
		{faultproxy.Unavailable, nil, true},
		{faultproxy.TooManyRequests, nil, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault), func(t *testing.T) {
			t.Parallel()
			u := newUpstream(t)
			p, kube := start(t, u, faultproxy.Options{RetryAfter: time.Second})
			p.SetRules(faultproxy.Rule{Verbs: []string{"get"}, Resource: "configmaps", Fault: tt.fault})
			start := time.Now()
			err := get(t, kube)
			switch {
			case tt.retried && err != nil:
				t.Fatalf("not retried after Retry-After: %v", err)
			case tt.retried && time.Since(start) < 900*time.Millisecond:
				t.Errorf("the client did not wait for Retry-After: %s", time.Since(start))
			case !tt.retried && (err == nil || !tt.is(err)):
				t.Fatalf("err = %v", err)
			}
			want := 0
			if tt.retried {
				want = 1
			}
			if u.count() != want {
				t.Errorf("upstream saw %d requests, want %d", u.count(), want)
			}
			if in := p.Injected(); len(in) != 1 || in[0].Fault != tt.fault || in[0].Request.Name != "x" {
				t.Errorf("injected %v", in)
			}
			// Once only: the next request goes through.
			if err := get(t, kube); err != nil {
				t.Errorf("second request: %v", err)
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault   faultproxy.Fault
		reached int
	}{
		{faultproxy.TimeoutNotReached, 0},
		{faultproxy.TimeoutReached, 1},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault), func(t *testing.T) {
			t.Parallel()
			u := newUpstream(t)
			p, kube := start(t, u, faultproxy.Options{MaxHang: time.Minute})
			p.SetRules(faultproxy.Rule{Verbs: []string{"create"}, Fault: tt.fault})
			start := time.Now()
			_, err := kube.CoreV1().ConfigMaps("a").Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
			if err == nil {
				t.Fatal("the hung request succeeded")
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("the client waited %s, past its own timeout", d)
			}
			if u.count() != tt.reached {
				t.Errorf("upstream saw %v, want %d requests", u.seen, tt.reached)
			}
			in := p.Injected()
			if len(in) != 1 || in[0].Fault != tt.fault || in[0].Reached != (tt.reached == 1) {
				t.Errorf("injected %v", in)
			}
		})
	}
}

func TestMaxHangCutsTheConnection(t *testing.T) {
	t.Parallel()
	u := newUpstream(t)
	p, err := faultproxy.Start(u.config(), faultproxy.Options{MaxHang: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetRules(faultproxy.Rule{Fault: faultproxy.TimeoutNotReached})
	// A client without a timeout of its own is cut off, not held forever.
	kube, err := kubernetes.NewForConfig(p.Config())
	if err != nil {
		t.Fatal(err)
	}
	if err := get(t, kube); err == nil {
		t.Fatal("a cut connection succeeded")
	}
}

func TestNthAndSeededDraws(t *testing.T) {
	t.Parallel()
	faulted := func(seed uint64, rule faultproxy.Rule) []int {
		u := newUpstream(t)
		p, kube := start(t, u, faultproxy.Options{Seed: seed})
		p.SetRules(rule)
		var out []int
		for i := 1; i <= 30; i++ {
			if get(t, kube) != nil {
				out = append(out, i)
			}
		}
		return out
	}
	if got := faulted(1, faultproxy.Rule{Name: "x", Nth: 3, Fault: faultproxy.InternalError}); len(got) != 1 || got[0] != 3 {
		t.Errorf("Nth 3 faulted requests %v", got)
	}
	if got := faulted(1, faultproxy.Rule{Name: "other", Fault: faultproxy.InternalError}); len(got) != 0 {
		t.Errorf("a rule for another name faulted %v", got)
	}
	rule := faultproxy.Rule{Probability: 0.3, Times: -1, Fault: faultproxy.InternalError}
	a, b, c := faulted(7, rule), faulted(7, rule), faulted(8, rule)
	if len(a) == 0 || len(a) == 30 {
		t.Errorf("probability 0.3 faulted %v of 30", a)
	}
	if !slices.Equal(a, b) {
		t.Errorf("one seed, two sequences: %v and %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 7 and 8 faulted the same requests %v", a)
	}
}

func TestKubeconfig(t *testing.T) {
	t.Parallel()
	u := newUpstream(t)
	p, err := faultproxy.Start(u.config(), faultproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := p.WriteKubeconfig(path); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := get(t, kube); err != nil {
		t.Fatalf("through the kubeconfig: %v", err)
	}
	if p.Requests() != 1 {
		t.Errorf("the proxy saw %d requests", p.Requests())
	}
}
