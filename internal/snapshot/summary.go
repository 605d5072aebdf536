package snapshot

import (
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Summary is the short account of a snapshot: what `purser snapshot`
// prints and what two snapshots of one cluster must agree on.
type Summary struct {
	Source        string `json:"source"`
	ServerVersion string `json:"serverVersion,omitempty"`
	// CollectedAt is when the snapshot was taken; absent when unknown.
	CollectedAt time.Time     `json:"collectedAt,omitzero"`
	Nodes       int           `json:"nodes"`
	Pools       []PoolSummary `json:"pools"`
	Namespaces  int           `json:"namespaces"`
	Empty       []string      `json:"emptyNamespaces"`
	// UnknownNamespaces could not be called empty or not: some kinds
	// could not be read.
	UnknownNamespaces []string       `json:"unknownNamespaces,omitempty"`
	Pods              int            `json:"pods"`
	PodsByPhase       map[string]int `json:"podsByPhase"`
	Objects           map[string]int `json:"objects"`
	Unlisted          []KindStatus   `json:"unlistedKinds,omitempty"`
}

// PoolSummary counts the nodes of one pool.
type PoolSummary struct {
	Name          string   `json:"name"`
	Nodes         int      `json:"nodes"`
	Ready         int      `json:"ready"`
	InstanceTypes []string `json:"instanceTypes"`
}

// Summarize computes the summary of an indexed snapshot.
func Summarize(ix *Index) Summary {
	s := ix.S
	sum := Summary{
		Source:        s.Meta.Source,
		ServerVersion: s.Meta.ServerVersion,
		CollectedAt:   s.Meta.CollectedAt,
		Nodes:         len(s.Nodes),
		Namespaces:    len(s.Namespaces),
		Empty:         ix.EmptyNamespaces(),
		Pods:          len(s.Pods),
		PodsByPhase:   map[string]int{},
		Objects:       map[string]int{},
		Unlisted:      s.UnlistedKinds(),
	}
	pools := map[string]*PoolSummary{}
	types := map[string]map[string]bool{}
	for i := range s.Nodes {
		n := &s.Nodes[i]
		name := NodePool(n)
		p, ok := pools[name]
		if !ok {
			p = &PoolSummary{Name: name}
			pools[name] = p
			types[name] = map[string]bool{}
		}
		p.Nodes++
		if NodeReady(n) {
			p.Ready++
		}
		if t := InstanceType(n); t != "" {
			types[name][t] = true
		}
	}
	for name, p := range pools {
		for t := range types[name] {
			p.InstanceTypes = append(p.InstanceTypes, t)
		}
		sort.Strings(p.InstanceTypes)
		sum.Pools = append(sum.Pools, *p)
	}
	sort.Slice(sum.Pools, func(i, j int) bool { return sum.Pools[i].Name < sum.Pools[j].Name })
	for _, n := range s.Namespaces {
		if !IsSystemNamespace(n.Name) && ix.NamespaceContents(n.Name).State() == Unknown {
			sum.UnknownNamespaces = append(sum.UnknownNamespaces, n.Name)
		}
	}
	for i := range s.Pods {
		sum.PodsByPhase[PodStatusPhrase(&s.Pods[i])]++
	}
	for _, k := range kinds() {
		if k.GVR.Resource == "events" {
			continue // recent warnings come and go between two reads
		}
		sum.Objects[k.Kind] = k.count(s)
	}
	return sum
}

// NodeReady reports whether a node's Ready condition is True.
func NodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// PodStatusPhrase is the pod's phase, refined the way kubectl's STATUS
// column is for the states people look for: CrashLoopBackOff (or another
// waiting reason) for a Running pod whose container is not running, and
// Unschedulable for a Pending pod the scheduler has given up on.
func PodStatusPhrase(p *corev1.Pod) string {
	switch p.Status.Phase {
	case corev1.PodRunning:
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Waiting != nil && cs.State.Waiting.Reason != "" {
				return cs.State.Waiting.Reason
			}
		}
	case corev1.PodPending, "":
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return "Pending (unschedulable)"
			}
		}
		return string(corev1.PodPending)
	}
	return string(p.Status.Phase)
}
