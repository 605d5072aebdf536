package rightsize

import (
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/purserhq/purser/internal/snapshot"
)

// Defaults of the recommendation.
const (
	DefaultPercentile      = 0.95
	DefaultHeadroomPercent = 15
	DefaultWindow          = 14 * 24 * time.Hour
	// FloorCPUMilli and FloorMemoryBytes are the least Purser recommends:
	// below them a container is starved by the first burst (a JVM's start,
	// a TLS handshake) and the saving is a few cents.
	FloorCPUMilli    = 10
	FloorMemoryBytes = 32 << 20
	// After an OOM kill the memory limit is at least OOMLimitPercent of
	// the limit the container was killed at, and at least
	// OOMObservedPercent of (observed max + headroom): the observed max of a
	// container that was killed is the limit, not what it needed.
	OOMLimitPercent    = 150
	OOMObservedPercent = 125
	// RestartPercent raises memory of a container that restarted for a
	// reason the evidence does not name: an OOM kill whose record was
	// overwritten by a later termination looks like this.
	RestartPercent = 110
)

// Confidence says how far a recommendation can be trusted.
type Confidence string

// Confidence levels: by how much of the window the history covers and
// how many samples it holds.
const (
	High   Confidence = "high"   // a week or more of history
	Medium Confidence = "medium" // a day or more
	Low    Confidence = "low"    // less than a day, or one sample
)

func confidence(u ContainerUsage, oneSample bool) Confidence {
	switch {
	case oneSample || u.Samples < 24:
		return Low
	case u.History >= 7*24*time.Hour:
		return High
	case u.History >= 24*time.Hour:
		return Medium
	}
	return Low
}

// RoundCPU rounds millicores up to a step that reads well and does not
// matter to the scheduler: 5m under 100m, 25m under 1 core, 50m above.
func RoundCPU(m int64) int64 {
	step := int64(50)
	switch {
	case m < 100:
		step = 5
	case m < 1000:
		step = 25
	}
	return ceilTo(max(m, FloorCPUMilli), step)
}

// RoundMemory rounds bytes up to a whole MiB, at least the floor.
func RoundMemory(b int64) int64 {
	return ceilTo(max(b, FloorMemoryBytes), 1<<20)
}

func ceilTo(v, step int64) int64 {
	if r := v % step; r != 0 {
		return v + step - r
	}
	return v
}

// scale is pct percent of v (bytes or millicores, 0 or more), rounded
// up, in integers: a float product lands a byte above a whole MiB and
// rounds a whole MiB too far. It saturates instead of wrapping.
func scale(v, pct int64) int64 {
	q, r := v/100, v%100
	if q > (math.MaxInt64-100)/max(pct, 1) {
		return math.MaxInt64
	}
	return q*pct + (r*pct+99)/100
}

// containerEvidence is one container of one workload: its resources
// today, what its pods used, and what their statuses say.
type containerEvidence struct {
	current   corev1.ResourceRequirements
	usage     ContainerUsage
	oneSample bool
	oomSource string
	// snapshotOOM and snapshotRestarts come from the pods' container
	// statuses (lastState.terminated.reason, restartCount).
	snapshotOOM      bool
	snapshotRestarts int64
}

// recommend computes a container's new resources and the reasons for
// them, without HPA adjustment.
func recommend(ev containerEvidence, o Options) (corev1.ResourceRequirements, []string) {
	h := 100 + int64(o.HeadroomPercent)
	out := ev.current.DeepCopy()
	if out.Requests == nil {
		out.Requests = corev1.ResourceList{}
	}
	var reasons []string
	u := ev.usage

	cpu := u.CPUMilli
	if ev.oneSample {
		// One reading is no percentile: give it the headroom memory gets.
		cpu = scale(cpu, h)
		reasons = append(reasons, fmt.Sprintf("CPU request from one metrics-server sample (%dm) plus %d%% headroom", u.CPUMilli, o.HeadroomPercent))
	} else {
		reasons = append(reasons, fmt.Sprintf("CPU request at p%s of use over the window (%dm)", pct(o.Percentile), u.CPUMilli))
	}
	cpu = RoundCPU(cpu)
	out.Requests[corev1.ResourceCPU] = *resource.NewMilliQuantity(cpu, resource.DecimalSI)
	if lim, ok := out.Limits[corev1.ResourceCPU]; ok && lim.MilliValue() < cpu {
		out.Limits[corev1.ResourceCPU] = *resource.NewMilliQuantity(cpu, resource.DecimalSI)
		reasons = append(reasons, "CPU limit raised to the new request: a limit below the request is refused by the API server")
	}

	mem := scale(u.MemoryBytes, h)
	reasons = append(reasons, fmt.Sprintf("memory at the window's max working set (%dMi) plus %d%% headroom", u.MemoryBytes>>20, o.HeadroomPercent))
	oom := u.OOMKilled || ev.snapshotOOM
	restarts := max(u.Restarts, ev.snapshotRestarts)
	var curLimit int64
	if l, ok := ev.current.Limits[corev1.ResourceMemory]; ok {
		curLimit = snapshot.ClampedBytes(l)
	}
	switch {
	case oom:
		byObserved := scale(mem, OOMObservedPercent)
		byLimit := scale(curLimit, OOMLimitPercent)
		src := "its pods' status (lastState.terminated.reason OOMKilled)"
		if u.OOMKilled && ev.oomSource != "" {
			src = ev.oomSource
		} else if u.OOMKilled {
			src = "the usage source"
		}
		raised := max(byObserved, byLimit)
		what := fmt.Sprintf("%d%% of (max + headroom) = %dMi", OOMObservedPercent, byObserved>>20)
		if byLimit > byObserved {
			what = fmt.Sprintf("%d%% of the %dMi limit it was killed at = %dMi", OOMLimitPercent, curLimit>>20, byLimit>>20)
		}
		reasons = append(reasons, fmt.Sprintf("OOMKilled in the window (%s): its observed max is where the kernel stopped it, not what it needs; memory raised by %dMi to %s",
			src, (raised-mem)>>20, what))
		mem = raised
	case restarts > 0:
		raised := scale(mem, RestartPercent)
		reasons = append(reasons, fmt.Sprintf("restarted %d times for a reason the evidence does not name: memory raised by %dMi (%d%%) in case an OOM kill was overwritten",
			restarts, (raised-mem)>>20, RestartPercent-100))
		mem = raised
	}
	mem = RoundMemory(mem)
	out.Requests[corev1.ResourceMemory] = *resource.NewQuantity(mem, resource.BinarySI)
	if ev.oneSample {
		// A single reading says nothing of peaks: the limit stays.
		reasons = append(reasons, "memory limit left as it is: one sample says nothing of peaks")
		if curLimit > 0 && curLimit < mem {
			out.Limits[corev1.ResourceMemory] = *resource.NewQuantity(mem, resource.BinarySI)
		}
	} else {
		if out.Limits == nil {
			out.Limits = corev1.ResourceList{}
		}
		// Memory is not compressible: a limit above the request lets the
		// node overcommit and the kernel kill whichever pod it picks.
		out.Limits[corev1.ResourceMemory] = *resource.NewQuantity(mem, resource.BinarySI)
	}
	return *out, reasons
}

// pct writes a percentile such as 0.95 as "95", 0.995 as "99.5".
func pct(q float64) string {
	return fmt.Sprintf("%g", math.Round(q*1000)/10)
}
