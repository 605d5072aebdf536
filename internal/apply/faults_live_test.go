package apply_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/purserhq/purser/internal/apply"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/testcluster"
	"github.com/purserhq/purser/internal/testutil/faultproxy"
)

// envEveryBoundary makes the fault test kill the run at every record of
// its journal, not only at the first of each kind of boundary and then
// every faultStride records: several hundred kills, some fifteen minutes.
const envEveryBoundary = "PURSER_FAULTS_EVERY_BOUNDARY"

// faultStride is how many journal records a run may write past the last
// kill before it is killed again, when no new kind of boundary came first.
const faultStride = 80

// requestTimeout bounds each request of the purser runs of the fault
// test: a request the proxy holds ends there, and the step is tried again.
const requestTimeout = "3s"

// TestApplyFaultsLive carries BlueOcean's product plan out with the purser
// binary through a proxy that injects API errors (409, 500, 503 and 429
// with Retry-After, timeouts that did and did not reach the server), some
// by rule, some drawn at random from a seed, and kills the binary (SIGKILL)
// at every kind of step boundary and stage record the journal shows, then
// resumes it, over and over, until the run completes. The moved state must
// then hold nothing lost, nothing twice, every volume with its claim. The
// rollback is carried out the same way and must give back the original
// objects exactly. The test log counts the fault cases and their outcomes.
func TestApplyFaultsLive(t *testing.T) {
	c := testcluster.Require(t, cluster)
	ctx := t.Context()
	kube, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PURSER_FAULTS_SEED"); s != "" {
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("PURSER_FAULTS_SEED: %v", err)
		}
	}
	t.Logf("fault seed %d (PURSER_FAULTS_SEED=%d repeats the draws)", seed, seed)
	proxy, err := faultproxy.Start(c.Config, faultproxy.Options{Seed: seed, RetryAfter: time.Second, MaxHang: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	l := &liveRun{c: c, kube: kube, dir: t.TempDir()}
	kubeconfig := filepath.Join(l.dir, "proxy.kubeconfig")
	if err := proxy.WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	l.config = filepath.Join(l.dir, "purser.yaml")
	if err := os.WriteFile(l.config, scenario.DemoConfigYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, o := range scenario.BlueOcean().Objects {
		if s, ok := o.Object.(*corev1.Secret); ok {
			for _, v := range s.Data {
				l.secrets = append(l.secrets, string(v))
			}
		}
	}
	l.unavailableBefore(t)
	pvs, err := kube.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pv := range pvs.Items {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, markerAnnotation, "written before the move to "+pv.Name)
		if _, err := kube.CoreV1().PersistentVolumes().Patch(ctx, pv.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	f := &faultChain{t: t, l: l, proxy: proxy, kubeconfig: kubeconfig, outcomes: map[string]int{}, killedAt: map[string]bool{}, killedPos: map[string]bool{}}
	f.build()
	// The plan is built through the proxy, faults off: the runs check that
	// the cluster they reach is the one the plan was built from.
	path := filepath.Join(l.dir, "product.yaml")
	if out, err := f.purser(ctx, "plan", "--strategy", "product", "--config", l.config, "--plan-file", path); err != nil {
		t.Fatalf("purser plan: %v\n%s", err, out)
	}
	p := readPlan(t, path)
	hash := p.Metadata.ContentHash
	touched := planObjects(p)
	before := l.objects(t, dyn, touched)
	nsBefore := l.namespaces(t)
	var confirm []string
	for _, s := range mustSteps(t, p) {
		if s.Change == apply.ChangeDelete && s.Object.Kind == "Namespace" {
			confirm = append(confirm, "--confirm-namespace", s.Object.Name)
		}
	}
	dir := filepath.Join(l.dir, "op")
	f.journal = filepath.Join(dir, apply.JournalFile)

	writes := []string{"create", "update", "patch", "apply", "delete"}
	t.Run("apply killed at its boundaries, with API faults", func(t *testing.T) {
		f.t = t
		// One of each fault by rule, so that every seed meets them all.
		byRule := []faultproxy.Rule{
			faultproxy.Rule{Verbs: []string{"apply"}, Resource: "configmaps", Nth: 2, Fault: faultproxy.InternalError},
			faultproxy.Rule{Verbs: []string{"apply"}, Resource: "services", Nth: 2, Fault: faultproxy.Conflict},
			faultproxy.Rule{Verbs: []string{"apply"}, Resource: "deployments", Nth: 3, Fault: faultproxy.TimeoutReached},
			faultproxy.Rule{Verbs: []string{"apply"}, Resource: "rolebindings", Fault: faultproxy.TimeoutNotReached},
			faultproxy.Rule{Verbs: []string{"apply"}, Resource: "persistentvolumeclaims", Fault: faultproxy.TimeoutReached},
			faultproxy.Rule{Verbs: []string{"patch"}, Resource: "persistentvolumes", Nth: 2, Fault: faultproxy.Unavailable},
			faultproxy.Rule{Verbs: []string{"patch"}, Resource: "deployments", Fault: faultproxy.TooManyRequests},
			faultproxy.Rule{Verbs: []string{"delete"}, Resource: "persistentvolumeclaims", Fault: faultproxy.TimeoutReached},
			faultproxy.Rule{Verbs: []string{"delete"}, Resource: "namespaces", Nth: 2, Fault: faultproxy.TimeoutReached},
			faultproxy.Rule{Verbs: []string{"delete"}, Resource: "services", Fault: faultproxy.InternalError},
		}
		proxy.SetRules(append(byRule,
			// And more at random among the writes.
			faultproxy.Rule{Verbs: writes, Probability: 0.01, Times: -1, Fault: faultproxy.InternalError},
			faultproxy.Rule{Verbs: writes, Probability: 0.005, Times: -1, Fault: faultproxy.Conflict},
			faultproxy.Rule{Verbs: writes, Probability: 0.01, Times: -1, Fault: faultproxy.Unavailable},
			faultproxy.Rule{Verbs: writes, Probability: 0.005, Times: -1, Fault: faultproxy.TooManyRequests},
			faultproxy.Rule{Verbs: writes, Probability: 0.003, Times: -1, Fault: faultproxy.TimeoutReached},
			faultproxy.Rule{Verbs: writes, Probability: 0.003, Times: -1, Fault: faultproxy.TimeoutNotReached},
		)...)
		args := append([]string{"apply", path, "--approve", hash, "--include-secret-values", "--accept-reference", "--accept-helm",
			"--parallel", "8"}, confirm...)
		start := time.Now()
		f.chain("apply", func(first bool) []string {
			if first {
				return append(slices.Clone(args), "--backup-dir", dir)
			}
			return append(slices.Clone(args), "--resume", f.journal)
		})
		t.Logf("apply chain: %s", time.Since(start).Round(time.Second))
		f.fired(t, byRule)
		if n := journalTypes(t, f.journal); n[apply.RecordEnd] != 1 {
			t.Errorf("the journal does not end the run: %v", n)
		}
	})
	if t.Failed() {
		// The tests after this one need BlueOcean as it was.
		proxy.SetRules()
		if out, err := f.purser(ctx, "rollback", f.journal, "--approve", hash); err != nil {
			t.Logf("rolling the failed run back: %v\n%s", err, out)
		}
		t.FailNow()
	}
	// The checks read the cluster directly, not through the proxy.
	proxy.SetRules()
	t.Run("the moved state", func(t *testing.T) {
		l.checkMoved(t, dyn, p, before)
		f.noDuplicates(t, dyn, p)
	})

	t.Run("rollback killed at its boundaries, with API faults", func(t *testing.T) {
		f.t = t
		f.killedAt = map[string]bool{}
		byRule := []faultproxy.Rule{
			// A namespace recreated whose answer is lost: the next attempt
			// must know it for its own.
			faultproxy.Rule{Verbs: []string{"create"}, Resource: "namespaces", Nth: 2, Fault: faultproxy.TimeoutReached},
			faultproxy.Rule{Verbs: []string{"create"}, Resource: "persistentvolumeclaims", Fault: faultproxy.TimeoutReached},
			faultproxy.Rule{Verbs: []string{"create"}, Resource: "deployments", Nth: 2, Fault: faultproxy.InternalError},
			faultproxy.Rule{Verbs: []string{"create"}, Resource: "services", Fault: faultproxy.Conflict},
			faultproxy.Rule{Verbs: []string{"delete"}, Resource: "configmaps", Nth: 3, Fault: faultproxy.TimeoutReached},
			faultproxy.Rule{Verbs: []string{"delete"}, Resource: "deployments", Fault: faultproxy.TimeoutNotReached},
			faultproxy.Rule{Verbs: []string{"patch"}, Resource: "persistentvolumes", Fault: faultproxy.TooManyRequests},
		}
		proxy.SetRules(append(byRule,
			faultproxy.Rule{Verbs: writes, Probability: 0.01, Times: -1, Fault: faultproxy.InternalError},
			faultproxy.Rule{Verbs: writes, Probability: 0.005, Times: -1, Fault: faultproxy.Conflict},
			faultproxy.Rule{Verbs: writes, Probability: 0.01, Times: -1, Fault: faultproxy.Unavailable},
			faultproxy.Rule{Verbs: writes, Probability: 0.003, Times: -1, Fault: faultproxy.TimeoutReached},
			faultproxy.Rule{Verbs: writes, Probability: 0.003, Times: -1, Fault: faultproxy.TimeoutNotReached},
		)...)
		start := time.Now()
		f.chain("rollback", func(bool) []string { return []string{"rollback", f.journal, "--approve", hash} })
		t.Logf("rollback chain: %s", time.Since(start).Round(time.Second))
		f.fired(t, byRule)
	})
	proxy.SetRules()
	t.Run("rollback restores the original objects", func(t *testing.T) {
		sameObjects(t, before, l.objects(t, dyn, touched))
		nsAfter := l.namespaces(t)
		if !slices.Equal(slices.Sorted(maps.Keys(nsBefore)), slices.Sorted(maps.Keys(nsAfter))) {
			t.Errorf("namespaces after the rollback %v, before %v", slices.Sorted(maps.Keys(nsAfter)), slices.Sorted(maps.Keys(nsBefore)))
		}
		l.noVolumeAdrift(t)
		f.noneLabelled(t, dyn, p)
	})

	var injected []string
	byFault := map[faultproxy.Fault]int{}
	for _, in := range proxy.Injected() {
		byFault[in.Fault]++
		injected = append(injected, in.String())
	}
	t.Logf("fault cases: %d runs of purser (%s); %d API faults injected over %d requests (%s); %d kills at distinct kinds of boundary, at %d distinct records",
		f.runs, tally(f.outcomes), len(injected), proxy.Requests(), tally(byFault), f.distinctKills, len(f.killedPos))
	t.Logf("injected:\n  %s", strings.Join(injected, "\n  "))
}

// faultChain runs purser again and again until a run completes, killing
// it at journal boundaries.
type faultChain struct {
	t          *testing.T
	l          *liveRun
	proxy      *faultproxy.Proxy
	kubeconfig string
	bin        string
	journal    string
	// killedAt are the kinds of boundary killed at so far; killedPos the
	// records (type, step and stage), with PURSER_FAULTS_EVERY_BOUNDARY.
	killedAt, killedPos map[string]bool
	outcomes            map[string]int
	runs                int
	distinctKills       int
	// injectedBefore counts the injections fired checked already.
	injectedBefore int
}

func tally[K ~string](m map[K]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func (f *faultChain) build() {
	f.bin = filepath.Join(f.l.dir, "purser")
	build := exec.CommandContext(f.t.Context(), "go", "build", "-o", f.bin, "github.com/purserhq/purser/cmd/purser")
	if out, err := build.CombinedOutput(); err != nil {
		f.t.Fatalf("building purser: %v\n%s", err, out)
	}
}

// purser runs the binary through the proxy to its end.
func (f *faultChain) purser(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, f.bin, append([]string{"--kubeconfig", f.kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// boundary is one record of the journal past the begin record.
type boundary struct {
	// kind is its kind of boundary: the record's type, the change,
	// whether the object is a namespace, and the stage.
	kind string
	// pos is where in the run it is: the record's type, step and stage. A
	// resumed run writes the intent of the step it was killed in again:
	// that record is at a position killed at already.
	pos string
}

func (b boundary) String() string { return b.kind }

// boundaries reads the journal's records past the begin record.
func boundaries(path string) []boundary {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []boundary
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 0; sc.Scan(); n++ {
		var r apply.Record
		if n == 0 || json.Unmarshal(sc.Bytes(), &r) != nil {
			continue
		}
		kind := "object"
		if r.Object != nil && r.Object.Kind == "Namespace" {
			kind = "namespace"
		}
		out = append(out, boundary{kind: strings.Join([]string{r.Type, string(r.Change), kind, r.Stage}, "/"),
			pos: r.Type + "/" + strconv.Itoa(r.Step) + "/" + r.Stage})
	}
	return out
}

// chain runs purser with args(first) until a run completes. Each run is
// killed as soon as its journal shows a kind of boundary not killed at
// before, or faultStride records past the last kill. With
// PURSER_FAULTS_EVERY_BOUNDARY=1 it is killed at every record of the
// journal once: at the first record of each run whose position (type,
// step, stage) no run was killed at, so that each run gets one record
// further than the one before it. A run that stops by itself must have
// been stopped by a fault, and say at which step.
func (f *faultChain) chain(what string, args func(first bool) []string) {
	t := f.t
	every := os.Getenv(envEveryBoundary) == "1"
	maxRuns := 400
	if every {
		maxRuns = 5000
	}
	lastKill, lastStop := -1, ""
	for i := 0; ; i++ {
		if i == maxRuns {
			t.Fatalf("%s: no end after %d runs", what, i)
		}
		from := len(boundaries(f.journal))
		ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
		_, statErr := os.Stat(f.journal)
		cmd := exec.CommandContext(ctx, f.bin, append([]string{"--kubeconfig", f.kubeconfig, "--request-timeout", requestTimeout}, args(statErr != nil)...)...)
		var output bytes.Buffer
		cmd.Stdout, cmd.Stderr = &output, &output
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		f.runs++
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		killed, outcome := "", ""
		tick := time.NewTicker(5 * time.Millisecond)
	watch:
		for {
			select {
			case err := <-exited:
				outcome = "completed"
				if err != nil {
					outcome = "stopped"
				}
				break watch
			case <-tick.C:
			}
			b := boundaries(f.journal)
			// A run that wrote its end between two looks at the journal is
			// done: killing it at a record before its end would only make
			// the next run end it again.
			if slices.ContainsFunc(b[min(from, len(b)):], func(x boundary) bool { return strings.HasPrefix(x.kind, apply.RecordEnd+"/") }) {
				continue
			}
			for n := from; n < len(b); n++ {
				pos := what + " " + b[n].pos
				if every && !f.killedPos[pos] || !every && (!f.killedAt[b[n].kind] || n-lastKill >= faultStride) {
					if !f.killedAt[b[n].kind] {
						f.distinctKills++
					}
					f.killedAt[b[n].kind], f.killedPos[pos], lastKill, killed = true, true, n, b[n].kind
					_ = cmd.Process.Signal(syscall.SIGKILL)
					<-exited
					outcome = "killed"
					break watch
				}
			}
			from = len(b)
		}
		tick.Stop()
		timedOut := ctx.Err() != nil
		cancel()
		f.l.noSecrets(t, output.String())
		f.outcomes[what+" "+outcome]++
		switch outcome {
		case "completed":
			t.Logf("%s run %d completed", what, i+1)
			return
		case "killed":
			t.Logf("%s run %d killed at %s", what, i+1, killed)
		default:
			msg := strings.TrimSpace(output.String())
			if timedOut {
				t.Fatalf("%s run %d did not end in 4 minutes:\n%s", what, i+1, msg)
			}
			last := lastLine(msg)
			if last == lastStop {
				t.Fatalf("%s does not converge: run %d stopped as the one before it:\n%s", what, i+1, msg)
			}
			lastStop = last
			if !stepNamed.MatchString(last) {
				t.Errorf("%s run %d stopped without naming a step:\n%s", what, i+1, msg)
			}
			t.Logf("%s run %d stopped: %s", what, i+1, last)
		}
	}
}

// stepNamed is the error a run stopped by a fault ends with.
var stepNamed = regexp.MustCompile(`^purser: error: (rollback, )?step [0-9]+`)

func lastLine(s string) string {
	lines := strings.Split(s, "\n")
	return lines[len(lines)-1]
}

// fired fails unless each rule injected its fault at least once since
// the rules were set: a rule that never fires proves nothing.
func (f *faultChain) fired(t *testing.T, rules []faultproxy.Rule) {
	t.Helper()
	in := f.proxy.Injected()[f.injectedBefore:]
	f.injectedBefore += len(in)
	for _, r := range rules {
		if !slices.ContainsFunc(in, func(i faultproxy.Injection) bool {
			return slices.Contains(r.Verbs, i.Request.Verb) && i.Request.Resource == r.Resource && i.Fault == r.Fault
		}) {
			t.Errorf("the rule %s on %v %s never fired", r.Fault, r.Verbs, r.Resource)
		}
	}
}

// createdNames lists, per "Kind namespace", the names the run's steps create.
func createdNames(steps []apply.Step) map[string][]string {
	out := map[string][]string{}
	for _, s := range steps {
		if (s.Change == apply.ChangeCreate || s.Change == apply.ChangeCopySecret || s.Change == apply.ChangeRebind) && s.Object.Kind != "Namespace" {
			k := s.Object.APIVersion + " " + s.Object.Kind + " " + s.Object.Namespace
			out[k] = append(out[k], s.Object.Name)
		}
	}
	return out
}

// labelled lists, per "Kind namespace" of the plan's creations, the
// objects that carry the operation label.
func (f *faultChain) labelled(t *testing.T, dyn dynamic.Interface, steps []apply.Step) (map[string][]string, string) {
	j, err := apply.ReadJournal(f.journal)
	if err != nil {
		t.Fatal(err)
	}
	op := j.Begin.Operation
	out := map[string][]string{}
	for k := range createdNames(steps) {
		parts := strings.Fields(k)
		o := apply.Object{APIVersion: parts[0], Kind: parts[1], Namespace: parts[2]}
		list, err := dyn.Resource(gvr(o)).Namespace(o.Namespace).List(t.Context(), metav1.ListOptions{LabelSelector: apply.OperationLabel + "=" + op})
		if err != nil {
			t.Fatalf("listing %s: %v", k, err)
		}
		for _, u := range list.Items {
			out[k] = append(out[k], u.GetName())
		}
		slices.Sort(out[k])
	}
	return out, op
}

// noDuplicates fails unless the objects the run labelled in each target
// are exactly those its steps create, each once, and every source object
// is in its target.
func (f *faultChain) noDuplicates(t *testing.T, dyn dynamic.Interface, p *plan.Plan) {
	steps := mustSteps(t, p)
	want := createdNames(steps)
	got, op := f.labelled(t, dyn, steps)
	for k, names := range want {
		names = slices.Sorted(slices.Values(names))
		if !slices.Equal(got[k], names) {
			t.Errorf("%s labelled %s=%s: %v, want each of %v once", k, apply.OperationLabel, op, got[k], names)
		}
	}
}

// noneLabelled fails when anything the run created is still there.
func (f *faultChain) noneLabelled(t *testing.T, dyn dynamic.Interface, p *plan.Plan) {
	got, op := f.labelled(t, dyn, mustSteps(t, p))
	for k, names := range got {
		if len(names) > 0 {
			t.Errorf("%s: %v, created by run %s, still there after the rollback", k, names, op)
		}
	}
}
