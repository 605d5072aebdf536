package dashboard_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// findChromium returns Debian's headless browser. The browser tests run
// without -short, and there a missing browser fails them: they are what
// shows the pages work in a real browser.
func findChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("drives headless Chromium; runs without -short")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium on PATH; install Debian's chromium (apt-get install chromium)")
	return ""
}

// browser drives Chromium over the DevTools protocol on a pipe
// (--remote-debugging-pipe: file descriptors 3 and 4, messages ended by
// NUL), which needs neither a port nor a WebSocket library.
type browser struct {
	t       *testing.T
	cmd     *exec.Cmd
	out     *os.File
	session string

	mu      sync.Mutex
	next    int
	pending map[int]chan cdpMessage
	events  chan cdpMessage
	done    chan struct{}
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// startBrowser starts headless Chromium with a 1366×768 window (a
// laptop's screen) and opens one page.
func startBrowser(t *testing.T, path string) *browser {
	t.Helper()
	toChrome, ours, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	theirs, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-extensions", "--remote-debugging-pipe",
		"--user-data-dir="+filepath.Join(t.TempDir(), "profile"), "--window-size=1366,768", "about:blank")
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	toChrome.Close()
	fromChrome.Close()
	b := &browser{t: t, cmd: cmd, out: ours, pending: map[int]chan cdpMessage{}, events: make(chan cdpMessage, 256), done: make(chan struct{})}
	go b.read(theirs)
	t.Cleanup(func() {
		_, _ = b.call("", "Browser.close", nil)
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-waited
		}
		ours.Close()
		if t.Failed() {
			t.Logf("chromium's stderr:\n%s", stderr.String())
		}
	})
	var target struct {
		TargetID string `json:"targetId"`
	}
	b.must("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	b.must("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	b.session = attached.SessionID
	b.must(b.session, "Page.enable", nil, nil)
	b.must(b.session, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": false}, nil)
	return b
}

func (b *browser) read(r io.ReadCloser) {
	defer close(b.done)
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if err := json.Unmarshal(raw[:len(raw)-1], &m); err != nil {
			continue
		}
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.pending[m.ID]
			delete(b.pending, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		select {
		case b.events <- m:
		default: // nobody waits for this event; drop it rather than block
		}
	}
}

func (b *browser) call(session, method string, params any) (json.RawMessage, error) {
	b.mu.Lock()
	b.next++
	id := b.next
	ch := make(chan cdpMessage, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg, err := json.Marshal(map[string]any{"id": id, "method": method, "params": orEmpty(params), "sessionId": session})
	if err != nil {
		return nil, err
	}
	if session == "" {
		msg, _ = json.Marshal(map[string]any{"id": id, "method": method, "params": orEmpty(params)})
	}
	if _, err := b.out.Write(append(msg, 0)); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		return m.Result, nil
	case <-b.done:
		return nil, fmt.Errorf("%s: chromium exited", method)
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("%s: no answer in 60s", method)
	}
}

func orEmpty(p any) any {
	if p == nil {
		return map[string]any{}
	}
	return p
}

func (b *browser) must(session, method string, params, result any) {
	b.t.Helper()
	raw, err := b.call(session, method, params)
	if err != nil {
		b.t.Fatal(err)
	}
	if result != nil {
		if err := json.Unmarshal(raw, result); err != nil {
			b.t.Fatalf("%s: %v", method, err)
		}
	}
}

// waitLoad waits for the page's load event.
func (b *browser) waitLoad() {
	b.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case m := <-b.events:
			if m.Method == "Page.loadEventFired" && m.SessionID == b.session {
				return
			}
		case <-deadline:
			b.t.Fatal("the page did not load in 60s")
		}
	}
}

func (b *browser) navigate(u string) {
	b.t.Helper()
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	b.must(b.session, "Page.navigate", map[string]any{"url": u}, &nav)
	if nav.ErrorText != "" {
		b.t.Fatalf("navigating to %s: %s", u, nav.ErrorText)
	}
	b.waitLoad()
}

// eval evaluates a JavaScript expression in the page through the
// DevTools protocol, which the page's policy does not govern: the pages
// themselves run no script.
func (b *browser) eval(expr string, result any) {
	b.t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	b.must(b.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r)
	if r.Exception != nil {
		b.t.Fatalf("evaluating %q: %s", expr, r.Exception.Text)
	}
	if result != nil {
		if err := json.Unmarshal(r.Result.Value, result); err != nil {
			b.t.Fatalf("evaluating %q: %v (%s)", expr, err, r.Result.Value)
		}
	}
}

func (b *browser) text() string {
	b.t.Helper()
	var s string
	b.eval("document.body.innerText", &s)
	return s
}

func (b *browser) key(name string, code int) {
	b.t.Helper()
	for _, typ := range []string{"rawKeyDown", "keyUp"} {
		b.must(b.session, "Input.dispatchKeyEvent", map[string]any{"type": typ, "key": name, "code": name, "windowsVirtualKeyCode": code}, nil)
	}
}

// screenshot saves the page as it shows in the window to the test's
// artefact directory: go test -artifacts -outputdir DIR keeps them.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	var shot struct {
		Data string `json:"data"`
	}
	b.must(b.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	if len(png) < 10_000 {
		b.t.Errorf("the screenshot of %s is %d bytes: blank?", name, len(png))
	}
	path := filepath.Join(b.t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// lowContrast lists the text whose colour is under 4.5:1 against the
// background it is drawn on (WCAG 2 contrast, the nearest opaque
// background up the tree).
const lowContrast = `(() => {
  const lum = c => { const m = c.match(/[\d.]+/g).map(Number);
    const [r,g,b] = m.slice(0,3).map(v => { v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); });
    return 0.2126*r + 0.7152*g + 0.0722*b; };
  const bg = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
    const m = c.match(/[\d.]+/g); if (m && (m.length < 4 || Number(m[3]) > 0.5)) return c; } return 'rgb(255,255,255)'; };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const st = getComputedStyle(el); if (st.visibility === 'hidden' || st.display === 'none' || el.closest('svg') || el.getClientRects().length === 0) continue;
    const a = lum(st.color), b = lum(bg(el)); const ratio = (Math.max(a,b)+0.05)/(Math.min(a,b)+0.05);
    if (ratio < 4.5) out.push(el.tagName + ' "' + el.textContent.trim().slice(0,40) + '" ' + ratio.toFixed(2));
  }
  return out; })()`

// TestDashboardInBrowser renders the dashboard of a month of the demo's
// recorded history in headless Chromium at 1366×768: what a reader sees on the
// overview, findings, cost, plan and history pages, that nothing is
// wider than the window, that text has a contrast of 4.5:1 at least, a
// severity filter submitted through its form, and the filter form
// reached with the Tab key with a visible focus.
func TestDashboardInBrowser(t *testing.T) {
	path := findChromium(t)
	// A month of daily scans: the trends and cost charts at their widest.
	st, cur := demoHistoryOf(t, cluster, 30, nil)
	srv := server(t, st, cur, "/dashboard")
	b := startBrowser(t, path)
	pages := []struct {
		name, path string
		want       []string
	}{
		{"overview", "/dashboard/", []string{"Open findings", "applications", "degraded", "USD 1,289.30", "Top savings", "product"}},
		{"findings", "/dashboard/findings", []string{"pod-crashloop", "Deployment/onlyoneapi-prod/public-api", "CrashLoopBackOff", "open 29d", "Cause", "Fix"}},
		{"cost", "/dashboard/cost", []string{"By node pool", "By namespace", "By team", "By environment", "Month to date", "applications"}},
		{"plan", "/dashboard/plan?strategy=product", []string{"Plan (strategy product)", "Targets", "Review"}},
		{"history", "/dashboard/history", []string{"service-no-endpoints Service/monitoring/prometheus-server", "first scan: 124", "USD 1,289.30"}},
	}
	t.Run("contrast check", func(t *testing.T) {
		// The check itself finds pale text, so a page that passes it
		// passes for its colours.
		b.t = t
		b.navigate(srv.URL + "/dashboard/")
		var low []string
		b.eval(`(() => { const p = document.createElement('p'); p.textContent = 'pale'; p.style.color = '#aaa'; document.body.append(p); return `+lowContrast+`; })()`, &low)
		if len(low) != 1 || !strings.Contains(low[0], "pale") {
			t.Errorf("the contrast check found %v in a page with one pale line", low)
		}
	})
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			b.t = t
			b.navigate(srv.URL + p.path)
			text := b.text()
			for _, w := range p.want {
				if !strings.Contains(text, w) {
					t.Errorf("the page shows no %q", w)
				}
			}
			var overflow struct{ Scroll, Inner int }
			b.eval(`({Scroll: document.documentElement.scrollWidth, Inner: window.innerWidth})`, &overflow)
			if overflow.Scroll > overflow.Inner {
				t.Errorf("the page is %dpx wide in a %dpx window", overflow.Scroll, overflow.Inner)
			}
			var low []string
			b.eval(lowContrast, &low)
			for _, l := range low {
				t.Errorf("contrast under 4.5:1: %s", l)
			}
			var svgs, described int
			b.eval(`document.querySelectorAll('main svg[role=img]').length`, &svgs)
			b.eval(`[...document.querySelectorAll('main svg[role=img]')].filter(s => s.querySelector('title') && s.querySelector('desc')).length`, &described)
			if svgs != described {
				t.Errorf("%d of %d charts lack a title and description", svgs-described, svgs)
			}
			b.screenshot(p.name)
		})
	}
	t.Run("severity filter", func(t *testing.T) {
		b.t = t
		b.navigate(srv.URL + "/dashboard/findings")
		b.eval(`document.getElementById('f-severity').value = 'warning'; document.querySelector('form.filters').requestSubmit(); true`, nil)
		b.waitLoad()
		var got struct {
			Search string
			Sevs   []string
		}
		b.eval(`({Search: location.search, Sevs: [...document.querySelectorAll('.finding .sev')].map(e => e.textContent)})`, &got)
		if got.Search != "?check=&severity=warning&namespace=&state=open" {
			t.Errorf("the form submitted %q", got.Search)
		}
		if len(got.Sevs) == 0 {
			t.Fatal("no warning is listed")
		}
		for _, s := range got.Sevs {
			if s != "warning" {
				t.Errorf("a %s finding is listed under severity warning", s)
			}
		}
		b.screenshot("findings-warning")
	})
	t.Run("keyboard", func(t *testing.T) {
		b.t = t
		b.navigate(srv.URL + "/dashboard/findings")
		var steps []string
		for range 15 {
			b.key("Tab", 9)
			var focus struct {
				Tag, ID, Outline string
				InForm           bool
			}
			b.eval(`(() => { const e = document.activeElement; return {Tag: e.tagName, ID: e.id, Outline: getComputedStyle(e).outlineStyle, InForm: !!e.closest('form.filters')}; })()`, &focus)
			steps = append(steps, focus.Tag+"#"+focus.ID)
			if focus.InForm {
				// The style sheet's own outline, not the browser's thin
				// default ring ("auto").
				if focus.Outline != "solid" {
					t.Errorf("%s has the focus with outline %q, not the style sheet's", focus.Tag, focus.Outline)
				}
				b.screenshot("keyboard-focus")
				return
			}
		}
		t.Errorf("15 presses of Tab never reached the filter form: %v", steps)
	})
}

// TestPolicyBlocksInjection: were cluster text ever to slip past the
// templates' escaping, the pages' Content-Security-Policy header keeps
// Chromium from running it. The same page without the header runs it,
// so the test would notice a policy that no longer blocks.
func TestPolicyBlocksInjection(t *testing.T) {
	path := findChromium(t)
	st, cur := demoHistory(t, nil)
	dash := server(t, st, cur, "")
	inject := func(keepPolicy bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			resp, err := http.Get(dash.URL + r.URL.Path)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if keepPolicy {
				w.Header().Set("Content-Security-Policy", resp.Header.Get("Content-Security-Policy"))
			}
			w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
			_, _ = w.Write([]byte(strings.Replace(string(body), "<main id=\"main\">", `<main id="main"><script>document.title="pwned"</script>`, 1)))
		})
	}
	b := startBrowser(t, path)
	for _, tt := range []struct {
		name    string
		policy  bool
		blocked bool
	}{{"with the policy", true, true}, {"without the policy", false, false}} {
		srv := httptest.NewServer(inject(tt.policy))
		b.navigate(srv.URL + "/findings")
		var title string
		b.eval("document.title", &title)
		srv.Close()
		if ran := title == "pwned"; ran == tt.blocked {
			t.Errorf("%s: the injected script ran: %v", tt.name, ran)
		}
	}
}
