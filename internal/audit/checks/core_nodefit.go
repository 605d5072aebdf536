package checks

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/purserhq/purser/internal/sched"
	"github.com/purserhq/purser/internal/snapshot"
)

// fitOn evaluates a pod spec against a node given the pods bound there.
func fitOn(ix *snapshot.Index, spec *corev1.PodSpec, req corev1.ResourceList, n *corev1.Node) sched.Verdict {
	return sched.Fit(spec, req, n, ix.NodeRequests(n.Name))
}

// quantityText writes a node's or pod's amount as sched.Amount does. An
// amount out of range (a snapshot built in code is not validated) is
// written as it is, not converted into a clamped or wrapped number.
func quantityText(r corev1.ResourceName, q resource.Quantity) string {
	if r == corev1.ResourceCPU {
		if q.Sign() < 0 || q.Cmp(snapshot.MaxCPU) > 0 {
			return q.String()
		}
		return sched.Amount(r, q.MilliValue())
	}
	if q.Sign() < 0 || q.Cmp(snapshot.MaxBytes) > 0 {
		return q.String()
	}
	return sched.Amount(r, q.Value())
}

// verdictSummary groups node verdicts by reason: "14 nodes: untolerated
// taint dedicated=api:NoSchedule".
func verdictSummary(vs []sched.Verdict) (fits []string, lines []string) {
	byReason := map[string][]string{}
	for _, v := range vs {
		if v.Fits() {
			fits = append(fits, v.Node)
			continue
		}
		key := v.String()
		byReason[key] = append(byReason[key], v.Node)
	}
	keys := make([]string, 0, len(byReason))
	for k := range byReason {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(byReason[keys[i]]) != len(byReason[keys[j]]) {
			return len(byReason[keys[i]]) > len(byReason[keys[j]])
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		nodes := byReason[k]
		sort.Strings(nodes)
		lines = append(lines, fmt.Sprintf("%d %s (%s): %s", len(nodes), podsWord(len(nodes), "node", "nodes"), joinNames(nodes, 4), k))
	}
	sort.Strings(fits)
	return fits, lines
}
