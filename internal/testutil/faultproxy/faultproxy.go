// Package faultproxy is an HTTPS reverse proxy in front of a Kubernetes
// API server that answers chosen requests with the faults a real cluster
// gives now and then: a conflict, a server error, an overload with
// Retry-After, or a request that hangs until the client gives up, either
// before it reached the server or after the server carried it out. Tests
// point a client at the proxy (Config, WriteKubeconfig) to prove that
// what writes to a cluster converges despite them.
//
// The proxy terminates TLS with its own certificate and forwards each
// request with the upstream configuration's credentials: the client's own
// Authorization header is dropped.
package faultproxy

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Fault is what the proxy answers instead of the server's response.
type Fault string

// Faults.
const (
	// Conflict answers 409 Conflict without forwarding.
	Conflict Fault = "409"
	// InternalError answers 500 without forwarding.
	InternalError Fault = "500"
	// Unavailable answers 503 with Retry-After without forwarding.
	Unavailable Fault = "503"
	// TooManyRequests answers 429 with Retry-After without forwarding.
	TooManyRequests Fault = "429"
	// TimeoutNotReached holds the request without forwarding it until the
	// client gives up (or MaxHang passes, when the connection is cut): the
	// server never saw it.
	TimeoutNotReached Fault = "timeout-not-reached"
	// TimeoutReached forwards the request, lets the server carry it out,
	// then withholds the response until the client gives up (or MaxHang
	// passes, when the connection is cut): the write happened, the client
	// cannot know.
	TimeoutReached Fault = "timeout-reached"
)

// Request is what a rule matches on, parsed from the request's path and
// method as the API server's own request info would.
type Request struct {
	// Verb is get, list, watch, create, update, patch, apply, delete or
	// deletecollection; apply is a patch of server-side apply.
	Verb                                          string
	Group, Resource, Subresource, Namespace, Name string
}

func (r Request) String() string {
	s := r.Verb + " " + r.Resource
	if r.Group != "" {
		s += "." + r.Group
	}
	if r.Subresource != "" {
		s += "/" + r.Subresource
	}
	switch {
	case r.Namespace != "" && r.Name != "":
		s += " " + r.Namespace + "/" + r.Name
	case r.Namespace != "":
		s += " -n " + r.Namespace
	case r.Name != "":
		s += " " + r.Name
	}
	return s
}

// Parse reads the resource request a path and method make; a path that
// is not one (discovery, /version, /healthz) has an empty Resource.
func Parse(r *http.Request) Request {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var out Request
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		out.Group = parts[1]
		parts = parts[3:]
	default:
		out.Verb = strings.ToLower(r.Method)
		return out
	}
	// namespaces/NAME/status and /finalize are the namespace's own
	// subresources, not a kind in it.
	if len(parts) >= 3 && parts[0] == "namespaces" && parts[2] != "status" && parts[2] != "finalize" {
		out.Namespace, parts = parts[1], parts[2:]
	}
	if len(parts) > 0 {
		out.Resource = parts[0]
	}
	if len(parts) > 1 {
		out.Name = parts[1]
	}
	if len(parts) > 2 {
		out.Subresource = parts[2]
	}
	q := r.URL.Query()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case q.Get("watch") == "true" || q.Get("watch") == "1":
			out.Verb = "watch"
		case out.Name == "":
			out.Verb = "list"
		default:
			out.Verb = "get"
		}
	case http.MethodPost:
		out.Verb = "create"
	case http.MethodPut:
		out.Verb = "update"
	case http.MethodPatch:
		out.Verb = "patch"
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/apply-patch") {
			out.Verb = "apply"
		}
	case http.MethodDelete:
		out.Verb = "delete"
		if out.Name == "" {
			out.Verb = "deletecollection"
		}
	}
	return out
}

// Rule chooses requests and the fault they get. Empty fields match
// anything.
type Rule struct {
	Verbs               []string
	Resource, Namespace string
	Name                string
	// Nth is the first matching request (counted from 1) that may get
	// the fault; 0 is the first.
	Nth int
	// Probability, when above 0, faults each candidate from Nth on with
	// that chance, drawn from the proxy's seeded source; 0 faults every
	// candidate.
	Probability float64
	// Times bounds how many requests the rule faults: 0 is once, a
	// negative number is without bound.
	Times int
	Fault Fault
}

func (r *Rule) matches(q Request) bool {
	return q.Resource != "" &&
		(len(r.Verbs) == 0 || slices.Contains(r.Verbs, q.Verb)) &&
		(r.Resource == "" || r.Resource == q.Resource) &&
		(r.Namespace == "" || r.Namespace == q.Namespace) &&
		(r.Name == "" || r.Name == q.Name)
}

// Options configure a proxy.
type Options struct {
	// Seed seeds the draws of rules with a Probability: one seed gives
	// one sequence of draws.
	Seed uint64
	// RetryAfter is the Retry-After of 429 and 503 answers; 1 second
	// when zero.
	RetryAfter time.Duration
	// MaxHang bounds a timeout fault for a client without a timeout of
	// its own: the connection is then cut. 30 seconds when zero.
	MaxHang time.Duration
}

// Injection is one fault the proxy answered.
type Injection struct {
	Request Request
	Fault   Fault
	// Reached is set when the server carried the request out (a
	// TimeoutReached) and answered with Status.
	Reached bool
	Status  int
}

func (i Injection) String() string {
	s := string(i.Fault) + " on " + i.Request.String()
	if i.Reached {
		s += fmt.Sprintf(" (reached the server: %d)", i.Status)
	}
	return s
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	// URL is the proxy's https address.
	URL string
	srv *httptest.Server
	up  *url.URL
	rt  http.RoundTripper
	o   Options

	mu       sync.Mutex
	rules    []Rule
	seen     []int
	faulted  []int
	rnd      *rand.Rand
	injected []Injection
	requests int
}

// Start starts a proxy in front of the API server of upstream, with no
// rule: every request is forwarded until SetRules.
func Start(upstream *rest.Config, o Options) (*Proxy, error) {
	up, err := url.Parse(upstream.Host)
	if err != nil {
		return nil, fmt.Errorf("upstream host %q: %w", upstream.Host, err)
	}
	if up.Scheme == "" {
		up.Scheme = "https"
	}
	rt, err := rest.TransportFor(upstream)
	if err != nil {
		return nil, fmt.Errorf("transport to %s: %w", upstream.Host, err)
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = time.Second
	}
	if o.MaxHang <= 0 {
		o.MaxHang = 30 * time.Second
	}
	p := &Proxy{up: up, rt: rt, o: o, rnd: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.srv.EnableHTTP2 = true
	p.srv.StartTLS()
	p.URL = p.srv.URL
	return p, nil
}

// Close stops the proxy; requests held by a timeout fault are cut.
func (p *Proxy) Close() {
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// SetRules replaces the rules, their counts starting again from zero.
func (p *Proxy) SetRules(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = slices.Clone(rules)
	p.seen = make([]int, len(rules))
	p.faulted = make([]int, len(rules))
}

// Injected lists the faults answered so far, in order.
func (p *Proxy) Injected() []Injection {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.injected)
}

// Requests counts the requests the proxy received.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// Config is a client configuration for the proxy: its CA, and a token the
// proxy drops, since it forwards with the upstream credentials.
func (p *Proxy) Config() *rest.Config {
	return &rest.Config{Host: p.URL, BearerToken: "faultproxy", TLSClientConfig: rest.TLSClientConfig{CAData: p.caPEM()},
		QPS: 50, Burst: 100}
}

// WriteKubeconfig writes a kubeconfig for the proxy to path (mode 0600).
func (p *Proxy) WriteKubeconfig(path string) error {
	const name = "faultproxy"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: p.URL, CertificateAuthorityData: p.caPEM()}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: "faultproxy"}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("writing kubeconfig %s: %w", path, err)
	}
	return nil
}

func (p *Proxy) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
}

// choose picks the fault of a request, if a rule gives it one.
func (p *Proxy) choose(q Request) (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	for i := range p.rules {
		r := &p.rules[i]
		if !r.matches(q) {
			continue
		}
		p.seen[i]++
		limit := r.Times
		if limit == 0 {
			limit = 1
		}
		if p.seen[i] < max(r.Nth, 1) || limit > 0 && p.faulted[i] >= limit {
			continue
		}
		if r.Probability > 0 && p.rnd.Float64() >= r.Probability {
			continue
		}
		p.faulted[i]++
		return r.Fault, true
	}
	return "", false
}

func (p *Proxy) record(in Injection) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.injected = append(p.injected, in)
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	q := Parse(r)
	f, ok := p.choose(q)
	if !ok {
		p.forward(w, r)
		return
	}
	switch f {
	case Conflict:
		p.record(Injection{Request: q, Fault: f})
		status(w, http.StatusConflict, "Conflict", "", q)
	case InternalError:
		p.record(Injection{Request: q, Fault: f})
		status(w, http.StatusInternalServerError, "InternalError", "", q)
	case Unavailable:
		p.record(Injection{Request: q, Fault: f})
		status(w, http.StatusServiceUnavailable, "ServiceUnavailable", p.retryAfter(), q)
	case TooManyRequests:
		p.record(Injection{Request: q, Fault: f})
		status(w, http.StatusTooManyRequests, "TooManyRequests", p.retryAfter(), q)
	case TimeoutNotReached:
		p.record(Injection{Request: q, Fault: f})
		p.hang(r)
	case TimeoutReached:
		code, err := p.carryOut(r)
		if err != nil {
			// The server was not reached after all: the fault is still a
			// hang, of the other kind.
			p.record(Injection{Request: q, Fault: TimeoutNotReached})
		} else {
			p.record(Injection{Request: q, Fault: f, Reached: true, Status: code})
		}
		p.hang(r)
	default:
		http.Error(w, "faultproxy: unknown fault "+string(f), http.StatusBadGateway)
	}
}

func (p *Proxy) retryAfter() string {
	return strconv.Itoa(max(1, int(p.o.RetryAfter.Round(time.Second)/time.Second)))
}

// hang holds the request until the client gives up, or cuts the
// connection after MaxHang: either way the client gets no answer.
func (p *Proxy) hang(r *http.Request) {
	t := time.NewTimer(p.o.MaxHang)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-t.C:
	}
	panic(http.ErrAbortHandler)
}

// carryOut sends the request to the server, whatever becomes of the
// client, and discards the answer.
func (p *Proxy) carryOut(r *http.Request) (int, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
	defer cancel()
	out := r.Clone(ctx)
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host, out.Host = p.up.Scheme, p.up.Host, ""
	out.Header.Del("Authorization")
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return 0, fmt.Errorf("reading the body of %s: %w", r.URL.Path, err)
		}
		out.Body = io.NopCloser(strings.NewReader(string(body)))
		out.ContentLength = int64(len(body))
	}
	resp, err := p.rt.RoundTrip(out)
	if err != nil {
		return 0, fmt.Errorf("forwarding %s: %w", r.URL.Path, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func (p *Proxy) forward(w http.ResponseWriter, r *http.Request) {
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(p.up)
			pr.Out.Host = p.up.Host
			pr.Out.Header.Del("Authorization")
		},
		Transport: p.rt,
		// Watches stream: every event is passed on at once.
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		},
	}
	rp.ServeHTTP(w, r)
}

// status writes a metav1.Status as the API server would, so that clients
// decode it into their usual errors.
func status(w http.ResponseWriter, code int, reason, retryAfter string, q Request) {
	body := map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "code": code, "reason": reason,
		"message": fmt.Sprintf("faultproxy: injected %d on %s", code, q),
		"details": map[string]any{"name": q.Name, "kind": q.Resource},
	}
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
		body["details"].(map[string]any)["retryAfterSeconds"], _ = strconv.Atoi(retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
