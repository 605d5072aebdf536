package checks

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

// crashLoopRestarts is the restart count from which a container that keeps
// exiting with an error counts as crash-looping even between back-offs.
const crashLoopRestarts = 5

func podCrashLoop() audit.Check {
	return checkSpec{
		id:        "pod-crashloop",
		reads:     readsOf(kPods, kEvents),
		manifests: audit.NeedsCluster("needs a cluster: restarts and exit codes are pod status"),
		category:  audit.Availability,
		severity:  audit.Error,
		description: "A pod whose container keeps failing: CrashLoopBackOff, or repeated exits with an error, or a " +
			"container that cannot even start (image pull errors, a missing ConfigMap, Secret or key). The finding gives " +
			"the restarts, the last termination reason and exit code, since when it has been failing, the owning workload, " +
			"and the configuration cause when the status or the events show one (a file missing from the image, a missing " +
			"ConfigMap key, an image that cannot be pulled, a memory limit).",
		run: runPodCrashLoop,
	}
}

func runPodCrashLoop(c checkSpec, ix *snapshot.Index, _ *audit.Config) []audit.Finding {
	var out []audit.Finding
	for i := range ix.S.Pods {
		p := &ix.S.Pods[i]
		if podTerminal(p) {
			continue
		}
		statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
		for _, cs := range statuses {
			if f, ok := crashFinding(c, ix, p, cs); ok {
				out = append(out, f)
				break // one finding per pod, about its first failing container
			}
		}
	}
	return out
}

// startFailures are waiting reasons of containers that cannot start.
func startFailure(reason string) bool {
	switch reason {
	case "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError",
		"CreateContainerError", "RunContainerError":
		return true
	}
	return false
}

func crashFinding(c checkSpec, ix *snapshot.Index, p *corev1.Pod, cs corev1.ContainerStatus) (audit.Finding, bool) {
	w := cs.State.Waiting
	last := cs.LastTerminationState.Terminated
	looping := w != nil && w.Reason == "CrashLoopBackOff"
	starting := w != nil && startFailure(w.Reason)
	repeated := cs.RestartCount >= crashLoopRestarts && last != nil && last.ExitCode != 0 && !cs.Ready
	if !looping && !starting && !repeated {
		return audit.Finding{}, false
	}
	owner := workloadOf(ix, p)
	state := snapshot.PodStatusPhrase(p)
	f := c.newFinding(objRef("Pod", p), fmt.Sprintf("Pod %s/%s is %s: container %s restarted %d times",
		p.Namespace, p.Name, state, cs.Name, cs.RestartCount))
	if starting {
		f.Message = fmt.Sprintf("Pod %s/%s cannot start container %s: %s", p.Namespace, p.Name, cs.Name, w.Reason)
	}
	f.Evidence = append(f.Evidence, fmt.Sprintf("owner %s", owner), fmt.Sprintf("node %s", orNone(p.Spec.NodeName)),
		fmt.Sprintf("image %s", imageOf(p, cs.Name)), fmt.Sprintf("restarts %d", cs.RestartCount))
	var messages []string
	if last != nil {
		f.Evidence = append(f.Evidence, fmt.Sprintf("last termination: reason %s, exit code %d%s", orNone(last.Reason), last.ExitCode,
			finishedAt(last.FinishedAt.Time)))
		if last.Message != "" {
			f.Evidence = append(f.Evidence, "last termination message: "+firstLine(last.Message))
			messages = append(messages, last.Message)
		}
	}
	if w != nil && w.Message != "" {
		f.Evidence = append(f.Evidence, "waiting: "+w.Reason+": "+firstLine(w.Message))
		messages = append(messages, w.Message)
	}
	for _, e := range warningEvents(ix.S, "Pod", p.Namespace, p.Name) {
		messages = append(messages, e.Message)
	}
	if from := failingSince(ix.S, p); !from.IsZero() {
		f.Evidence = append(f.Evidence, "failing since "+from.UTC().Format(time.RFC3339)+ago(from, snapshotTime(ix.S)))
	}
	cause, fix := crashCause(p, cs, last, w, messages)
	f.Cause = cause
	logs := fmt.Sprintf("kubectl logs %s%s -c %s --previous", shell.Quote(p.Name), nsArg(p.Namespace), shell.Quote(cs.Name))
	f.Remediation = audit.Remediation{Text: fix, Command: logs}
	if (looping || repeated) && owner.Kind == "Deployment" && strings.Contains(cause, "image") {
		f.Remediation.Command = logs + fmt.Sprintf(" && kubectl rollout undo %s%s", shell.Quote("deployment/"+owner.Name), nsArg(owner.Namespace))
	}
	return f, true
}

var (
	missingFileRE   = regexp.MustCompile(`(?i)(?:ENOENT|no such file or directory)[^'"]*['"]?([^'"\s,]*)`)
	openPathRE      = regexp.MustCompile(`(?:open|stat|read|load|mkdir)\s+'?"?(/[^'"\s,]+)`)
	missingKeyRE    = regexp.MustCompile(`couldn't find key (\S+) in (ConfigMap|Secret) (\S+)`)
	missingObjectRE = regexp.MustCompile(`(configmap|secret) "([^"]+)" not found`)
)

// crashCause reads the termination, waiting reason and events for a
// configuration cause, and says how to fix it.
func crashCause(p *corev1.Pod, cs corev1.ContainerStatus, last *corev1.ContainerStateTerminated, w *corev1.ContainerStateWaiting,
	messages []string) (cause, fix string) {
	all := strings.Join(messages, "\n")
	switch {
	case w != nil && (w.Reason == "ImagePullBackOff" || w.Reason == "ErrImagePull" || w.Reason == "InvalidImageName"):
		return fmt.Sprintf("The image %s cannot be pulled (%s): the tag does not exist, the registry refuses the credentials, "+
				"or the name is wrong.", imageOf(p, cs.Name), w.Reason),
			"Check the image reference and the pod's imagePullSecrets; set the image to a tag that exists."
	case missingKeyRE.MatchString(all):
		m := missingKeyRE.FindStringSubmatch(all)
		return fmt.Sprintf("The container reads key %s of %s %s, which does not hold it.", m[1], m[2], m[3]),
			fmt.Sprintf("Add the key %s to %s %s, or mark the reference optional.", m[1], m[2], m[3])
	case missingObjectRE.MatchString(all):
		m := missingObjectRE.FindStringSubmatch(all)
		return fmt.Sprintf("The pod refers to %s %q, which does not exist in namespace %s.", m[1], m[2], p.Namespace),
			fmt.Sprintf("Create the %s %s in namespace %s, or fix the name the pod template refers to.", m[1], m[2], p.Namespace)
	case missingFileRE.MatchString(all):
		path := ""
		if m := openPathRE.FindStringSubmatch(all); m != nil {
			path = m[1]
		} else if m := missingFileRE.FindStringSubmatch(all); m != nil {
			path = m[1]
		}
		return fmt.Sprintf("The process exits because a file it needs is missing: %s. The file is neither in the image "+
				"nor mounted from a volume, a ConfigMap or a Secret.", orNone(path)),
			"Roll back to the last image that shipped the file, or mount it (a ConfigMap or volume at that path), then fix the image build."
	case last != nil && last.Reason == "OOMKilled":
		return fmt.Sprintf("The container is killed for exceeding its memory limit (%s).", limitOf(p, cs.Name)),
			"Raise the container's memory limit to what it uses at peak, or reduce what it uses."
	case last != nil && last.ExitCode == 137:
		return "The container is killed (exit code 137, SIGKILL): a failing liveness probe or the kernel's OOM killer.",
			"Check the liveness probe against the start-up time, and the memory limit against the usage."
	case last != nil:
		return fmt.Sprintf("The process exits with code %d (%s) shortly after starting; the logs of the previous run say why.",
				last.ExitCode, orNone(last.Reason)),
			"Read the previous run's logs, fix the configuration or roll back to the last working image."
	}
	return "The container keeps failing; the logs of the previous run say why.", "Read the previous run's logs and fix the cause."
}

// failingSince is when the trouble started: the first back-off event, or
// the pod's start.
func failingSince(s *snapshot.Snapshot, p *corev1.Pod) time.Time {
	var first time.Time
	for _, e := range warningEvents(s, "Pod", p.Namespace, p.Name) {
		if (e.Reason == "BackOff" || e.Reason == "Failed") && !e.FirstTimestamp.IsZero() &&
			(first.IsZero() || e.FirstTimestamp.Time.Before(first)) {
			first = e.FirstTimestamp.Time
		}
	}
	if first.IsZero() && p.Status.StartTime != nil {
		first = p.Status.StartTime.Time
	}
	return first
}

func imageOf(p *corev1.Pod, container string) string {
	for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		if c.Name == container {
			return c.Image
		}
	}
	return "(unknown)"
}

func limitOf(p *corev1.Pod, container string) string {
	for _, c := range p.Spec.Containers {
		if c.Name == container {
			if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
				return q.String()
			}
		}
	}
	return "no limit set"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func finishedAt(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ", finished " + t.UTC().Format(time.RFC3339)
}

func ago(t, now time.Time) string {
	if d := since(t, now); d != "" {
		return " (" + d + " before the snapshot)"
	}
	return ""
}
