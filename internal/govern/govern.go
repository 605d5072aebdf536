package govern

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/snapshot"
)

// Input is what every generator reads.
type Input struct {
	Index    *snapshot.Index
	Classify classify.Rules
	// Config is the govern section as written; generators fill its
	// defaults.
	Config Config
}

// ManagedBy is the label every generated object carries, so that what
// Purser generated can be listed and pruned.
const ManagedBy = "app.kubernetes.io/managed-by"

func managedLabels() map[string]string { return map[string]string{ManagedBy: "purser"} }

// systemNamespaces are never isolated nor given quotas: the control
// plane's own add-ons run there and a mistake would take the cluster down.
func systemNamespaces() []string { return []string{"kube-system", "kube-public", "kube-node-lease"} }

// Environments lists the environments of the snapshot's namespaces, for
// Config.CheckEnvironments.
func Environments(ix *snapshot.Index, rules classify.Rules) []string {
	var out []string
	for i := range ix.S.Namespaces {
		e := rules.Environment(&ix.S.Namespaces[i])
		if e != classify.Unassigned && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out
}

// namespacesOf returns the names of the namespaces of the given
// environments, sorted, system namespaces left out.
func namespacesOf(ix *snapshot.Index, rules classify.Rules, envs []string) []string {
	var out []string
	for i := range ix.S.Namespaces {
		ns := &ix.S.Namespaces[i]
		if slices.Contains(systemNamespaces(), ns.Name) {
			continue
		}
		if slices.Contains(envs, rules.Environment(ns)) {
			out = append(out, ns.Name)
		}
	}
	slices.Sort(out)
	return out
}

// Namespaces returns every namespace of the snapshot with its environment
// and team labels (<prefix>/environment, <prefix>/team), for those it
// has; only those labels, so that applying them changes nothing else.
func Namespaces(in Input) ([]corev1.Namespace, error) {
	cfg := in.Config.withDefaults()
	envKey, teamKey := cfg.LabelPrefix+"/environment", cfg.LabelPrefix+"/team"
	var out []corev1.Namespace
	for i := range in.Index.S.Namespaces {
		ns := &in.Index.S.Namespaces[i]
		l := map[string]string{}
		for key, v := range map[string]string{envKey: in.Classify.Environment(ns), teamKey: in.Classify.Team(ns)} {
			if v == classify.Unassigned {
				continue
			}
			if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
				return nil, fmt.Errorf("namespace %s: %s %q is not a label value: %s", ns.Name, key, v, errs[0])
			}
			l[key] = v
		}
		if len(l) == 0 {
			continue
		}
		out = append(out, corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: ns.Name, Labels: l}})
	}
	slices.SortFunc(out, func(a, b corev1.Namespace) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
