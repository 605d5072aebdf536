package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
)

// fakeReviews answers TokenReviews (token "good" and "weak" are valid)
// and SubjectAccessReviews (only "good"'s user may), counting calls.
func fakeReviews(t *testing.T, reviews, sars *atomic.Int32, fail *atomic.Bool, want *authzv1.ResourceAttributes, path *string) *fake.Clientset {
	t.Helper()
	c := fake.NewClientset()
	c.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		reviews.Add(1)
		if fail.Load() {
			return true, nil, errors.New("apiserver down")
		}
		tr := a.(k8stesting.CreateAction).GetObject().(*authnv1.TokenReview)
		switch tr.Spec.Token {
		case "good":
			tr.Status = authnv1.TokenReviewStatus{Authenticated: true, User: authnv1.UserInfo{Username: "system:serviceaccount:ops:reader"}}
		case "weak":
			tr.Status = authnv1.TokenReviewStatus{Authenticated: true, User: authnv1.UserInfo{Username: "system:serviceaccount:ops:nobody"}}
		}
		return true, tr, nil
	})
	c.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		sars.Add(1)
		sar := a.(k8stesting.CreateAction).GetObject().(*authzv1.SubjectAccessReview)
		if want != nil && (sar.Spec.ResourceAttributes == nil || *sar.Spec.ResourceAttributes != *want) {
			t.Errorf("reviewed %+v, want %+v", sar.Spec.ResourceAttributes, want)
		}
		if path != nil && (sar.Spec.NonResourceAttributes == nil || sar.Spec.NonResourceAttributes.Path != *path) {
			t.Errorf("reviewed %+v, want path %s", sar.Spec.NonResourceAttributes, *path)
		}
		sar.Status.Allowed = sar.Spec.User == "system:serviceaccount:ops:reader"
		return true, sar, nil
	})
	return c
}

func TestKubeAuth(t *testing.T) {
	t.Parallel()
	var reviews, sars atomic.Int32
	var fail atomic.Bool
	want := &authzv1.ResourceAttributes{Group: "purser.dev", Resource: "reports", Verb: "get"}
	clk := clocktesting.NewFakePassiveClock(t0)
	a := &KubeAuth{Client: fakeReviews(t, &reviews, &sars, &fail, want, nil), Attrs: DefaultAuthResource(), Clock: clk, TTL: 10 * time.Second}
	do := func(token string) int {
		r := httptest.NewRequest("GET", "/api/v1/findings", nil).WithContext(context.Background())
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		s, _ := a.Authenticate(r)
		return s
	}
	tests := []struct {
		token string
		want  int
	}{
		{"", http.StatusUnauthorized}, {"bogus", http.StatusUnauthorized}, {"weak", http.StatusForbidden}, {"good", http.StatusOK},
	}
	for _, tt := range tests {
		if got := do(tt.token); got != tt.want {
			t.Errorf("token %q: %d, want %d", tt.token, got, tt.want)
		}
	}
	if reviews.Load() != 3 || sars.Load() != 2 {
		t.Fatalf("%d token reviews, %d access reviews; want 3 and 2 (none without a token)", reviews.Load(), sars.Load())
	}
	// Cached: no more reviews within the TTL.
	for range 5 {
		do("good")
		do("weak")
	}
	if reviews.Load() != 3 {
		t.Fatalf("%d token reviews after cached requests, want still 3", reviews.Load())
	}
	// Expired: asked again.
	clk.SetTime(t0.Add(11 * time.Second))
	do("good")
	if reviews.Load() != 4 {
		t.Fatalf("%d token reviews after the TTL, want 4", reviews.Load())
	}
	// A failed review is a 500, not cached.
	fail.Store(true)
	clk.SetTime(t0.Add(30 * time.Second))
	if got := do("good"); got != http.StatusInternalServerError {
		t.Fatalf("review failing: %d, want 500", got)
	}
	fail.Store(false)
	if got := do("good"); got != http.StatusOK {
		t.Fatalf("review back: %d, want 200 (the failure must not be cached)", got)
	}
}

func TestKubeAuthPath(t *testing.T) {
	t.Parallel()
	var reviews, sars atomic.Int32
	var fail atomic.Bool
	path := "/metrics"
	a := &KubeAuth{Client: fakeReviews(t, &reviews, &sars, &fail, nil, &path), Attrs: ResourceAttributes{Path: true}}
	r := httptest.NewRequest("GET", "/metrics", nil)
	r.Header.Set("Authorization", "Bearer good")
	if s, _ := a.Authenticate(r); s != http.StatusOK {
		t.Fatalf("%d", s)
	}
}

func TestParseAuthResource(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{"purser.dev/reports": true, "path": true, "reports": false, "/reports": false, "a/b/c": false, "": false} {
		if _, err := ParseAuthResource(in); (err == nil) != ok {
			t.Errorf("ParseAuthResource(%q): %v", in, err)
		}
	}
}

func TestFollowerServesWithoutScanning(t *testing.T) {
	t.Parallel()
	s, _ := demoServer(t, &hook{})
	s.opts.Leading = func() bool { return false }
	did, err := s.Tick(t.Context())
	if err != nil || did {
		t.Fatalf("a follower scanned (%v, %v)", did, err)
	}
	if resp, _ := get(t, s.Handler(), "GET", "/readyz", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("a follower is not ready: %d", resp.StatusCode)
	}
	if scans, _ := s.opts.Store.Scans(t.Context(), "demo", 0); len(scans) != 0 {
		t.Fatalf("a follower recorded %d scans", len(scans))
	}
}
