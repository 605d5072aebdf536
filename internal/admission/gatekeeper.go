package admission

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Gatekeeper ingests a template through its constraint framework
// (github.com/open-policy-agent/frameworks/constraint), whose current
// module requires a newer Kubernetes minor than Purser's. The checks
// below are the framework's, rule for rule, with its messages, on the
// same OPA parser and compiler: the Rego is parsed in the template's Rego
// version, moved to the package data.template, must define violation,
// may reference data only under data.inventory and data.lib, and must
// compile.

// Gatekeeper's constants, as its rego driver names them.
const (
	gkTarget     = "admission.k8s.gatekeeper.sh"
	gkModulePath = "template"
	gkLibPrefix  = "libs"
	gkRequired   = "violation"
)

// gkErrTemplate is how the framework prefixes a template's errors.
const gkErrTemplate = "invalid ConstraintTemplate"

// regoSource is a template target's Rego.
type regoSource struct {
	target  string
	rego    string
	libs    []string
	version ast.RegoVersion
}

// targets reads a template's targets: the legacy rego and libs fields,
// or code entries of engine Rego (source.rego, source.libs,
// source.version), which take precedence as in Gatekeeper.
func targets(t *unstructured.Unstructured) ([]regoSource, error) {
	raw, _, _ := unstructured.NestedSlice(t.Object, "spec", "targets")
	var out []regoSource
	for i, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("spec.targets[%d]: not an object", i)
		}
		src := regoSource{version: ast.RegoV0}
		src.target, _ = m["target"].(string)
		src.rego, _ = m["rego"].(string)
		src.libs, _, _ = unstructured.NestedStringSlice(m, "libs")
		code, _, _ := unstructured.NestedSlice(m, "code")
		for _, c := range code {
			cm, _ := c.(map[string]any)
			if engine, _ := cm["engine"].(string); engine != "Rego" {
				continue
			}
			src.rego, _, _ = unstructured.NestedString(cm, "source", "rego")
			src.libs, _, _ = unstructured.NestedStringSlice(cm, "source", "libs")
			if v, _, _ := unstructured.NestedString(cm, "source", "version"); v == "v1" {
				src.version = ast.RegoV1
			}
			break
		}
		out = append(out, src)
	}
	return out, nil
}

// compiledTemplate is a template as Gatekeeper would hold it.
type compiledTemplate struct {
	kind     string
	compiler *ast.Compiler
	modules  []*ast.Module
}

// lintTemplate checks a template as Gatekeeper ingests it and returns
// every problem; the first Gatekeeper error stops its checks, as it
// stops Gatekeeper's.
func lintTemplate(t *unstructured.Unstructured) (*compiledTemplate, []string) {
	var problems []string
	kind, _, _ := unstructured.NestedString(t.Object, "spec", "crd", "spec", "names", "kind")
	if kind == "" {
		return nil, []string{"spec.crd.spec.names.kind is empty: the template creates no constraint kind"}
	}
	if t.GetName() != strings.ToLower(kind) {
		problems = append(problems, fmt.Sprintf("metadata.name %q is not the lowercase of the kind %q: Gatekeeper refuses the template", t.GetName(), kind))
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(t.Object, "spec", "crd", "spec", "validation"); found {
		if _, ok, _ := unstructured.NestedMap(t.Object, "spec", "crd", "spec", "validation", "openAPIV3Schema"); !ok {
			problems = append(problems, "spec.crd.spec.validation has no openAPIV3Schema: the parameters' schema must sit under it, else nothing checks the constraints' parameters")
		}
	}
	srcs, err := targets(t)
	if err != nil {
		return nil, append(problems, err.Error())
	}
	if len(srcs) != 1 {
		return nil, append(problems, fmt.Sprintf("%d targets: Gatekeeper expects exactly one, %s", len(srcs), gkTarget))
	}
	src := srcs[0]
	if src.target != gkTarget {
		problems = append(problems, fmt.Sprintf("target %q: Gatekeeper's admission target is %s", src.target, gkTarget))
	}
	mods, err := parseTemplate(src)
	if err != nil {
		return nil, append(problems, err.Error())
	}
	compiler := ast.NewCompiler()
	modules := map[string]*ast.Module{}
	for i, m := range mods {
		modules[fmt.Sprintf("%s%d", gkModulePath, i)] = m
	}
	compiler.Compile(modules)
	if compiler.Failed() {
		return nil, append(problems, fmt.Sprintf("unable to compile modules: %v", compiler.Errors))
	}
	problems = append(problems, undeclaredParameters(t, mods[0])...)
	return &compiledTemplate{kind: kind, compiler: compiler, modules: mods}, problems
}

// parseTemplate parses the entry point and the libs, moves the entry
// point to data.template and checks its references.
func parseTemplate(src regoSource) ([]*ast.Module, error) {
	parse := func(path, text string) (*ast.Module, error) {
		m, err := ast.ParseModuleWithOpts(path, text, ast.ParserOptions{RegoVersion: src.version})
		if err != nil {
			return nil, fmt.Errorf("%s: %v", gkErrTemplate, err)
		}
		if m == nil {
			return nil, fmt.Errorf("%s: invalid module: module %q is empty", gkErrTemplate, gkModulePath)
		}
		return m, nil
	}
	entry, err := parse(gkModulePath, src.rego)
	if err != nil {
		return nil, err
	}
	entry.Package.Path = ast.Ref{ast.DefaultRootDocument, ast.StringTerm(gkModulePath)}
	if !slices.ContainsFunc(entry.Rules, func(r *ast.Rule) bool { return string(r.Head.Name) == gkRequired }) &&
		!slices.ContainsFunc(entry.Rules, func(r *ast.Rule) bool { return r.Head.Ref().String() == gkRequired }) {
		return nil, fmt.Errorf("%s: invalid rego: invalid module: missing required rules: [%s]", gkErrTemplate, gkRequired)
	}
	mods := []*ast.Module{entry}
	libRoot := ast.MustParseRef("data.lib")
	for i, l := range src.libs {
		m, err := parse(fmt.Sprintf(`%s["lib_%d"]`, gkLibPrefix, i), l)
		if err != nil {
			return nil, err
		}
		if !m.Package.Path.HasPrefix(libRoot) || m.Package.Path.Equal(libRoot) {
			return nil, fmt.Errorf("%s: invalid lib prefix: path %s not found in lib prefixes", gkErrTemplate, m.Package.Path)
		}
		mods = append(mods, m)
	}
	allowed := []ast.Ref{ast.MustParseRef("data.inventory"), libRoot}
	for i, m := range mods {
		for _, imp := range m.Imports {
			ref, ok := imp.Path.Value.(ast.Ref)
			if !ok {
				return nil, fmt.Errorf("%s: invalid import: got reference of type %T, want %T", gkErrTemplate, imp.Path.Value, ast.Ref{})
			}
			if ref.HasPrefix(ast.InputRootRef) {
				return nil, fmt.Errorf("%s: invalid import: cannot import input: %q", gkErrTemplate, ref)
			}
			if !ref.HasPrefix(libRoot) && !ref.HasPrefix(ast.Ref{ast.VarTerm("future")}) && !ref.HasPrefix(ast.Ref{ast.VarTerm("rego")}) {
				return nil, fmt.Errorf("%s: invalid import: bad import: %q", gkErrTemplate, ref)
			}
		}
		var refErrs []string
		for _, rule := range m.Rules {
			ast.WalkRefs(rule, func(ref ast.Ref) bool {
				if len(ref) == 0 || !ref[0].Equal(ast.DefaultRootDocument) {
					return false
				}
				for _, a := range allowed {
					if ref.HasPrefix(a) {
						return false
					}
				}
				refErrs = append(refErrs, fmt.Sprintf("disallowed ref %s", ref))
				return false
			})
		}
		if len(refErrs) > 0 {
			path := gkModulePath
			if i > 0 {
				path = fmt.Sprintf(`%s["lib_%d"]`, gkLibPrefix, i-1)
			}
			return nil, fmt.Errorf("%s: invalid data references: check refs failed on module {%s}: %s", gkErrTemplate, path, strings.Join(refErrs, ", "))
		}
	}
	return mods, nil
}

// undeclaredParameters lists the input.parameters fields the Rego reads
// that the schema does not require: a constraint without one makes the
// rule's body undefined, which passes every object.
func undeclaredParameters(t *unstructured.Unstructured, m *ast.Module) []string {
	required, _, _ := unstructured.NestedStringSlice(t.Object, "spec", "crd", "spec", "validation", "openAPIV3Schema", "required")
	params := ast.MustParseRef("input.parameters")
	var read []string
	for _, rule := range m.Rules {
		ast.WalkRefs(rule, func(ref ast.Ref) bool {
			if len(ref) > len(params) && ref.HasPrefix(params) {
				if s, ok := ref[len(params)].Value.(ast.String); ok && !slices.Contains(read, string(s)) {
					read = append(read, string(s))
				}
			}
			return false
		})
	}
	slices.Sort(read)
	var out []string
	for _, p := range read {
		if !slices.Contains(required, p) {
			out = append(out, fmt.Sprintf("the Rego reads input.parameters.%s, which the schema does not require: a constraint without it passes every object", p))
		}
	}
	return out
}

// gatekeeperEvaluator evaluates the violation rule of one template.
type gatekeeperEvaluator struct {
	kind  string
	query rego.PreparedEvalQuery
}

func prepare(ctx context.Context, ct *compiledTemplate) (*gatekeeperEvaluator, error) {
	q, err := rego.New(rego.Compiler(ct.compiler), rego.Query("data.template.violation[r]")).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("template of %s: %w", ct.kind, err)
	}
	return &gatekeeperEvaluator{kind: ct.kind, query: q}, nil
}

// violations returns the messages of the violations of one review.
func (g *gatekeeperEvaluator) violations(ctx context.Context, review, params map[string]any) ([]string, error) {
	if params == nil {
		params = map[string]any{}
	}
	rs, err := g.query.Eval(ctx, rego.EvalInput(map[string]any{"review": review, "parameters": params}))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rs {
		v, _ := r.Bindings["r"].(map[string]any)
		msg, ok := v["msg"].(string)
		if !ok {
			return nil, errors.New("a violation has no msg string")
		}
		out = append(out, msg)
	}
	slices.Sort(out)
	return out, nil
}
