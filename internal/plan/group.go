package plan

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/yamldoc"
)

// layout is what a strategy decides: which namespaces go where.
type layout struct {
	targets   map[string][]string // target -> populated sources (the target itself included when it holds objects)
	folded    map[string][]string // target -> empty namespaces its group also held (deleted)
	deletions []Deletion
	untouched []string
	notes     []string
}

func newLayout() *layout {
	return &layout{targets: map[string][]string{}, folded: map[string][]string{}}
}

// group applies a strategy to the namespaces of ix.
func group(ix *snapshot.Index, rules classify.Rules, c Config, strategy string) (*layout, error) {
	var names []string
	for _, n := range ix.S.Namespaces {
		names = append(names, n.Name)
	}
	sort.Strings(names)

	state := func(ns string) snapshot.Emptiness { return ix.NamespaceContents(ns).State() }
	l := newLayout()

	// assign sends each namespace to a target ("" leaves it alone) and
	// settles empties: an empty namespace that is not a target is deleted.
	assign := func(targetOf func(ns string) string) error {
		// A namespace is a target when something that is not empty goes
		// there; empty namespaces alone do not make one.
		isTarget := map[string]bool{}
		targets := map[string]string{}
		for _, ns := range names {
			if c.IsProtected(ns) {
				continue
			}
			t := targetOf(ns)
			targets[ns] = t
			if t == "" {
				continue
			}
			if c.IsProtected(t) {
				return fmt.Errorf("namespace %s would move into %s, a protected namespace", ns, t)
			}
			// Target names are composed from configured names and suffixes:
			// one Kubernetes would refuse must stop the plan here, not at
			// apply time, and must never reach a file name or a terminal.
			if errs := validation.IsDNS1123Label(t); len(errs) > 0 {
				return fmt.Errorf("namespace %s would move into %q, which is not a valid namespace name: %s", ns, t, strings.Join(errs, "; "))
			}
			if state(ns) == snapshot.NotEmpty {
				isTarget[t] = true
			}
		}
		for _, ns := range names {
			if c.IsProtected(ns) {
				continue
			}
			t := targets[ns]
			switch st := state(ns); {
			case st == snapshot.Empty && !isTarget[ns]:
				l.deletions = append(l.deletions, Deletion{Namespace: ns, Reason: "empty: holds nothing but the objects Kubernetes creates in every namespace"})
				if t != "" {
					l.folded[t] = append(l.folded[t], ns)
				}
			case st == snapshot.Empty:
				// An empty target is reused: it receives, it is not a source.
			case st == snapshot.Unknown && t != "" && t != ns:
				l.untouched = append(l.untouched, ns)
				l.notes = append(l.notes, fmt.Sprintf("%s: left alone, its emptiness is unknown (some kinds could not be read)", ns))
			case t == "":
				l.untouched = append(l.untouched, ns)
			default:
				l.targets[t] = append(l.targets[t], ns)
			}
		}
		// A target whose only source is itself, and that absorbs no empty
		// namespace, changes nothing.
		for t, srcs := range l.targets {
			if len(srcs) == 1 && srcs[0] == t && len(l.folded[t]) == 0 {
				delete(l.targets, t)
				l.untouched = append(l.untouched, t)
			}
		}
		sort.Strings(l.untouched)
		return nil
	}

	switch strategy {
	case StrategyEmpty:
		return l, assign(func(string) string { return "" })
	case StrategyProduct:
		overrideUsed := make([]bool, len(c.Product.Overrides))
		nameUsed := make([]bool, len(c.Product.Names))
		err := assign(func(ns string) string {
			product := rules.Product(ns)
			if product == "" {
				return ""
			}
			for i, r := range c.Product.Names {
				if _, ok := classify.Match([]classify.Rule{r}, product); ok {
					product, nameUsed[i] = r.Name, true
					break
				}
			}
			env := rules.Environment(ix.Namespace(ns))
			for i, o := range c.Product.Overrides {
				if o.Product == product && o.Environment == env {
					env, overrideUsed[i] = o.To, true
					break
				}
			}
			if env == classify.Unassigned {
				if state(ns) == snapshot.NotEmpty {
					l.notes = append(l.notes, fmt.Sprintf("%s: product %s but no environment; left alone", ns, product))
				}
				return ""
			}
			for _, s := range c.Product.Suffixes {
				if s.Environment == env {
					return product + "-" + s.Suffix
				}
			}
			return product
		})
		if err != nil {
			return nil, err
		}
		for i, used := range nameUsed {
			if !used {
				return nil, &yamldoc.FieldError{Path: fmt.Sprintf("product.names[%d]", i),
					Msg: fmt.Sprintf("rule %q matches no product of this cluster", c.Product.Names[i].Name)}
			}
		}
		for i, used := range overrideUsed {
			if !used {
				o := c.Product.Overrides[i]
				return nil, &yamldoc.FieldError{Path: fmt.Sprintf("product.overrides[%d]", i),
					Msg: fmt.Sprintf("no namespace of product %q is in environment %q", o.Product, o.Environment)}
			}
		}
		return l, nil
	case StrategyEnvironment:
		ruleUsed := make([]bool, len(c.Environment.Rules))
		err := assign(func(ns string) string {
			env := rules.Environment(ix.Namespace(ns))
			if env == classify.Unassigned {
				for i, r := range c.Environment.Rules {
					if _, ok := classify.Match([]classify.Rule{r}, ns); ok {
						env, ruleUsed[i] = r.Name, true
						break
					}
				}
			}
			if env == classify.Unassigned {
				return ""
			}
			for _, t := range c.Environment.Targets {
				if t.Environment == env {
					return t.Suffix
				}
			}
			return env
		})
		if err != nil {
			return nil, err
		}
		for i, used := range ruleUsed {
			if !used {
				return nil, &yamldoc.FieldError{Path: fmt.Sprintf("environment.rules[%d]", i),
					Msg: fmt.Sprintf("rule %q matches no namespace left unassigned by classify.environments", c.Environment.Rules[i].Name)}
			}
		}
		return l, nil
	case StrategyFile:
		if len(c.File) == 0 {
			return nil, &yamldoc.FieldError{Path: "file", Msg: "strategy file needs plan.file: a list of {target, sources}"}
		}
		owner := map[string]string{}
		for i, m := range c.File {
			for j, p := range m.Sources {
				hit := false
				for _, ns := range names {
					if ok, _ := path.Match(p, ns); !ok || c.IsProtected(ns) {
						continue
					}
					hit = true
					if prev, dup := owner[ns]; dup && prev != m.Target {
						return nil, &yamldoc.FieldError{Path: fmt.Sprintf("file[%d].sources[%d]", i, j),
							Msg: fmt.Sprintf("namespace %s is already a source of %s", ns, prev)}
					}
					owner[ns] = m.Target
				}
				if !hit {
					return nil, &yamldoc.FieldError{Path: fmt.Sprintf("file[%d].sources[%d]", i, j),
						Msg: fmt.Sprintf("pattern %q matches no namespace of this cluster", p)}
				}
			}
		}
		return l, assign(func(ns string) string { return owner[ns] })
	}
	return nil, fmt.Errorf("unknown strategy %q: expected one of empty, product, environment, file", strategy)
}
