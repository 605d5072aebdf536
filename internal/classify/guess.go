package classify

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Guess proposes rules for a cluster whose config says nothing yet:
// environments from the suffixes teams usually give namespace names
// (-prod, -staging, -dev…), and products (and teams, the same groups) from
// the prefix that two or more namespaces share before their first dash.
// They are guesses to review, never applied without a person reading them.
// Kubernetes' own namespaces and those matched by nothing are left out.
func Guess(namespaces []corev1.Namespace) Rules {
	var names []string
	for _, n := range namespaces {
		if !strings.HasPrefix(n.Name, "kube-") && n.Name != "default" {
			names = append(names, n.Name)
		}
	}
	sort.Strings(names)
	envOf := func(name string) string {
		for _, e := range []struct{ env, suffixes string }{
			{"production", "-prod -production -prd -live"},
			{"staging", "-staging -stage -stg -preprod -uat"},
			{"development", "-dev -development -test -qa -sandbox"},
		} {
			for _, s := range strings.Fields(e.suffixes) {
				if strings.HasSuffix(name, s) {
					return e.env
				}
			}
		}
		return ""
	}
	var r Rules
	byEnv := map[string][]string{}
	for _, n := range names {
		if env := envOf(n); env != "" {
			byEnv[env] = append(byEnv[env], n)
		}
	}
	for _, env := range []string{"production", "staging", "development"} {
		if len(byEnv[env]) > 0 {
			r.Environments = append(r.Environments, Rule{Name: env, Match: byEnv[env]})
		}
	}
	byPrefix := map[string][]string{}
	for _, n := range names {
		prefix, _, found := strings.Cut(n, "-")
		if found && prefix != "" {
			byPrefix[prefix] = append(byPrefix[prefix], n)
		}
	}
	prefixes := make([]string, 0, len(byPrefix))
	for p, members := range byPrefix {
		if len(members) >= 2 {
			prefixes = append(prefixes, p)
		}
	}
	sort.Strings(prefixes)
	for _, p := range prefixes {
		rule := Rule{Name: p, Match: []string{p, p + "-*"}}
		r.Products = append(r.Products, rule)
		r.Teams = append(r.Teams, rule)
	}
	return r
}
