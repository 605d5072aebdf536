package server

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
)

// Authenticator decides whether a request may be served: it returns
// the HTTP status to answer (200 to serve it) and the user's name.
type Authenticator interface {
	Authenticate(r *http.Request) (status int, user string)
}

// ResourceAttributes is what a request must be allowed to do, as a
// SubjectAccessReview asks it. With Path set, the request's own path is
// checked as a non-resource URL instead (kube-rbac-proxy's default).
type ResourceAttributes struct {
	Group, Resource string
	Path            bool
}

// DefaultAuthResource is `get` on purser.dev/reports, cluster-wide: one
// ClusterRole rule (apiGroups [purser.dev], resources [reports], verbs
// [get]) grants the dashboard, the API and /metrics. No such resource
// needs to exist for RBAC to grant it.
func DefaultAuthResource() ResourceAttributes {
	return ResourceAttributes{Group: "purser.dev", Resource: "reports"}
}

// ParseAuthResource reads --auth-resource: GROUP/RESOURCE, or "path".
func ParseAuthResource(s string) (ResourceAttributes, error) {
	if s == "path" {
		return ResourceAttributes{Path: true}, nil
	}
	g, r, ok := strings.Cut(s, "/")
	if !ok || g == "" || r == "" || strings.Contains(r, "/") {
		return ResourceAttributes{}, fmt.Errorf("--auth-resource %q: expected GROUP/RESOURCE (purser.dev/reports) or path", s)
	}
	return ResourceAttributes{Group: g, Resource: r}, nil
}

// KubeAuth authenticates bearer tokens with TokenReview and authorises
// them with SubjectAccessReview, caching both answers briefly so that a
// dashboard page's requests cost the API server one review each.
type KubeAuth struct {
	Client kubernetes.Interface
	Attrs  ResourceAttributes
	TTL    time.Duration
	Clock  clock.PassiveClock

	mu    sync.Mutex
	cache map[[32]byte]cached
}

type cached struct {
	status int
	user   string
	until  time.Time
}

// maxCache bounds the cache: past it the cache starts afresh, which
// costs reviews, never memory.
const maxCache = 4096

// verb maps a method to the verb asked about, as kube-rbac-proxy does.
func verb(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return "get"
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		return "delete"
	}
	return strings.ToLower(method)
}

// Authenticate implements Authenticator.
func (a *KubeAuth) Authenticate(r *http.Request) (int, string) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return http.StatusUnauthorized, ""
	}
	v := verb(r.Method)
	path := ""
	if a.Attrs.Path {
		path = r.URL.Path
	}
	key := sha256.Sum256([]byte(token + "\x00" + v + "\x00" + path))
	now := a.now()
	a.mu.Lock()
	if c, ok := a.cache[key]; ok && now.Before(c.until) {
		a.mu.Unlock()
		return c.status, c.user
	}
	a.mu.Unlock()
	status, user := a.review(r.Context(), token, v, path)
	if status == http.StatusInternalServerError {
		return status, user // not cached: the next request asks again
	}
	a.mu.Lock()
	if a.cache == nil || len(a.cache) >= maxCache {
		a.cache = map[[32]byte]cached{}
	}
	ttl := a.TTL
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	a.cache[key] = cached{status: status, user: user, until: now.Add(ttl)}
	a.mu.Unlock()
	return status, user
}

func (a *KubeAuth) now() time.Time {
	if a.Clock == nil {
		return time.Now()
	}
	return a.Clock.Now()
}

func (a *KubeAuth) review(ctx context.Context, token, v, path string) (int, string) {
	tr, err := a.Client.AuthenticationV1().TokenReviews().Create(ctx, &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return http.StatusInternalServerError, ""
	}
	if !tr.Status.Authenticated {
		return http.StatusUnauthorized, ""
	}
	u := tr.Status.User
	extra := map[string]authzv1.ExtraValue{}
	for k, v := range u.Extra {
		extra[k] = authzv1.ExtraValue(v)
	}
	sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: u.Username, UID: u.UID, Groups: u.Groups, Extra: extra}}
	if a.Attrs.Path {
		sar.Spec.NonResourceAttributes = &authzv1.NonResourceAttributes{Path: path, Verb: v}
	} else {
		sar.Spec.ResourceAttributes = &authzv1.ResourceAttributes{Group: a.Attrs.Group, Resource: a.Attrs.Resource, Verb: v}
	}
	res, err := a.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return http.StatusInternalServerError, u.Username
	}
	if !res.Status.Allowed {
		return http.StatusForbidden, u.Username
	}
	return http.StatusOK, u.Username
}

func authenticate(a Authenticator, h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, user := a.Authenticate(r)
		switch status {
		case http.StatusOK:
			h.ServeHTTP(w, r)
		case http.StatusUnauthorized:
			w.Header().Set("WWW-Authenticate", `Bearer realm="purser"`)
			writeError(w, status, "a Kubernetes bearer token is required")
		case http.StatusForbidden:
			writeError(w, status, fmt.Sprintf("%s may not read Purser's reports", user))
		default:
			log.Warn("authentication failed", "status", status)
			writeError(w, status, "the token could not be reviewed")
		}
	})
}
