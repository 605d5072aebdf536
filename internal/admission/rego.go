package admission

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// RegoFile is a plain Rego policy, as conftest reads them: its deny and
// violation rules review one object, which is the input itself. Files
// may import one another's packages.
type RegoFile struct {
	Source Source
	Text   string
}

// regoRules are the rules a plain policy reports violations with.
func regoRules() []string { return []string{"deny", "violation"} }

// parseRego parses a file as Rego v1, OPA's default since 1.0, else as
// v0 (rules without if and contains), which older policies are written in.
func parseRego(f RegoFile) (*ast.Module, error) {
	m, err := ast.ParseModuleWithOpts(f.Source.File, f.Text, ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err == nil {
		return m, nil
	}
	if m0, err0 := ast.ParseModuleWithOpts(f.Source.File, f.Text, ast.ParserOptions{RegoVersion: ast.RegoV0}); err0 == nil {
		return m0, nil
	}
	return nil, err
}

// regoPolicies is every plain Rego file compiled together.
type regoPolicies struct {
	compiler *ast.Compiler
	// packages maps a package with deny or violation rules to its file.
	packages map[string]Source
}

// compileRego parses and compiles the files; problems name the file.
func compileRego(files []RegoFile) (*regoPolicies, []Problem) {
	var problems []Problem
	modules := map[string]*ast.Module{}
	packages := map[string]Source{}
	for _, f := range files {
		m, err := parseRego(f)
		if err != nil {
			problems = append(problems, Problem{Source: f.Source, File: f.Source.File, Object: "Rego", Message: err.Error()})
			continue
		}
		modules[f.Source.File] = m
		if slices.ContainsFunc(m.Rules, func(r *ast.Rule) bool { return slices.Contains(regoRules(), r.Head.Ref()[0].String()) }) {
			packages[m.Package.Path.String()] = f.Source
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	c := ast.NewCompiler()
	c.Compile(modules)
	if c.Failed() {
		for _, e := range c.Errors {
			file := ""
			if e.Location != nil {
				file = e.Location.File
			}
			problems = append(problems, Problem{File: file, Object: "Rego", Message: e.Error()})
		}
		return nil, problems
	}
	imported := map[string]bool{}
	for _, m := range modules {
		for _, imp := range m.Imports {
			imported[imp.Path.String()] = true
		}
	}
	for _, f := range files {
		m := modules[f.Source.File]
		if _, ok := packages[m.Package.Path.String()]; !ok && !imported[m.Package.Path.String()] {
			problems = append(problems, Problem{Source: f.Source, File: f.Source.File, Object: "Rego " + m.Package.Path.String(),
				Message: "defines neither deny nor violation, and no policy imports it: it reports nothing"})
		}
	}
	return &regoPolicies{compiler: c, packages: packages}, problems
}

// violations evaluates every policy package on one object, the
// input; each deny or violation value is a message or an object with msg.
func (p *regoPolicies) violations(ctx context.Context, obj *unstructured.Unstructured) (map[string][]string, error) {
	out := map[string][]string{}
	pkgs := make([]string, 0, len(p.packages))
	for pkg := range p.packages {
		pkgs = append(pkgs, pkg)
	}
	slices.Sort(pkgs)
	for _, pkg := range pkgs {
		for _, rule := range regoRules() {
			rs, err := rego.New(rego.Compiler(p.compiler), rego.Query(pkg+"."+rule+"[v]"), rego.Input(obj.Object)).Eval(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", pkg, rule, err)
			}
			for _, r := range rs {
				switch v := r.Bindings["v"].(type) {
				case string:
					out[pkg] = append(out[pkg], v)
				case map[string]any:
					if msg, ok := v["msg"].(string); ok {
						out[pkg] = append(out[pkg], msg)
						continue
					}
					out[pkg] = append(out[pkg], fmt.Sprint(v))
				default:
					out[pkg] = append(out[pkg], fmt.Sprint(v))
				}
			}
		}
		slices.Sort(out[pkg])
	}
	return out, nil
}

func isRego(path string) bool { return strings.HasSuffix(strings.ToLower(path), ".rego") }
