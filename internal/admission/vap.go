package admission

import (
	"context"
	"fmt"
	"strings"

	celgo "github.com/google/cel-go/cel"
	celtypes "github.com/google/cel-go/common/types"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/cel/environment"
)

// The API server's validating admission plugin
// (k8s.io/apiserver/pkg/admission/plugin/policy/validating) links its
// informers and, through them, every typed client of client-go: about
// 600 packages. Its CEL compiler and evaluator live apart, in
// plugin/cel, which Purser uses; the decision the plugin takes from an
// evaluation (which validation denies, with which message) is the short
// rule of denials below.

// expression is a CEL expression and the types it may return, as the
// plugin declares them: validations and match conditions are bool,
// messages string, variables anything.
type expression struct {
	text    string
	returns []*celgo.Type
}

func (e *expression) GetExpression() string      { return e.text }
func (e *expression) ReturnTypes() []*celgo.Type { return e.returns }

type variable struct {
	expression
	name string
}

func (v *variable) GetName() string { return v.name }

func condition(text string) *expression { return &expression{text, []*celgo.Type{celgo.BoolType}} }
func message(text string) *expression   { return &expression{text, []*celgo.Type{celgo.StringType}} }

// compiler returns the API server's CEL compiler for admission policies,
// with the policy's variables stored, as the validating admission
// plugin builds it (strict cost, as 1.34 enforces it).
func compiler(p *admissionv1.ValidatingAdmissionPolicy) (*plugincel.CompositedCompiler, plugincel.OptionalVariableDeclarations, error) {
	env, err := plugincel.NewCompositionEnv(plugincel.VariablesTypeName, environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion(), true))
	if err != nil {
		return nil, plugincel.OptionalVariableDeclarations{}, fmt.Errorf("CEL environment: %w", err)
	}
	c := plugincel.NewCompositedCompilerFromTemplate(env)
	vars := plugincel.OptionalVariableDeclarations{HasParams: p.Spec.ParamKind != nil, HasAuthorizer: true, StrictCost: true}
	named := make([]plugincel.NamedExpressionAccessor, len(p.Spec.Variables))
	for i, v := range p.Spec.Variables {
		named[i] = &variable{expression{v.Expression, []*celgo.Type{celgo.AnyType, celgo.DynType}}, v.Name}
	}
	c.CompileAndStoreVariables(named, vars, environment.StoredExpressions)
	return c, vars, nil
}

// lintPolicy compiles every expression of a policy with the API server's
// libraries and returns the errors, named by field as the API server
// names them when it refuses the policy.
func lintPolicy(p *admissionv1.ValidatingAdmissionPolicy) []string {
	c, vars, err := compiler(p)
	if err != nil {
		return []string{err.Error()}
	}
	msgVars := vars
	msgVars.HasAuthorizer = false
	var out []string
	check := func(field string, acc plugincel.ExpressionAccessor, v plugincel.OptionalVariableDeclarations) {
		if r := c.CompileCELExpression(acc, v, environment.StoredExpressions); r.Error != nil {
			out = append(out, fmt.Sprintf("%s: Invalid value: %q: %s", field, acc.GetExpression(), r.Error.Detail))
		}
	}
	for i, v := range p.Spec.Variables {
		check(fmt.Sprintf("spec.variables[%d].expression", i), &variable{expression{v.Expression, []*celgo.Type{celgo.AnyType, celgo.DynType}}, v.Name}, vars)
	}
	for i, m := range p.Spec.MatchConditions {
		check(fmt.Sprintf("spec.matchConditions[%d].expression", i), condition(m.Expression), vars)
	}
	if len(p.Spec.Validations) == 0 && len(p.Spec.AuditAnnotations) == 0 {
		out = append(out, "spec.validations: Required value: validations or auditAnnotations must contain at least one item")
	}
	for i, v := range p.Spec.Validations {
		check(fmt.Sprintf("spec.validations[%d].expression", i), condition(v.Expression), vars)
		if v.MessageExpression != "" {
			check(fmt.Sprintf("spec.validations[%d].messageExpression", i), message(v.MessageExpression), msgVars)
		}
	}
	if p.Spec.MatchConstraints == nil || len(p.Spec.MatchConstraints.ResourceRules) == 0 {
		out = append(out, "spec.matchConstraints.resourceRules: Required value")
	}
	return out
}

// policyEvaluator evaluates one policy as the validating admission
// plugin does.
type policyEvaluator struct {
	policy      *admissionv1.ValidatingAdmissionPolicy
	match       plugincel.ConditionEvaluator
	validations plugincel.ConditionEvaluator
	messages    plugincel.ConditionEvaluator
	vars        plugincel.OptionalVariableDeclarations
}

func newPolicyEvaluator(p *admissionv1.ValidatingAdmissionPolicy) (*policyEvaluator, error) {
	c, vars, err := compiler(p)
	if err != nil {
		return nil, err
	}
	msgVars := vars
	msgVars.HasAuthorizer = false
	var match, validations, messages []plugincel.ExpressionAccessor
	for _, m := range p.Spec.MatchConditions {
		match = append(match, condition(m.Expression))
	}
	for _, v := range p.Spec.Validations {
		validations = append(validations, condition(v.Expression))
		// The plugin pairs messages with validations by position.
		var m plugincel.ExpressionAccessor
		if v.MessageExpression != "" {
			m = message(v.MessageExpression)
		}
		messages = append(messages, m)
	}
	return &policyEvaluator{policy: p, vars: vars,
		match:       c.CompileCondition(match, vars, environment.StoredExpressions),
		validations: c.CompileCondition(validations, vars, environment.StoredExpressions),
		messages:    c.CompileCondition(messages, msgVars, environment.StoredExpressions),
	}, nil
}

// noOpinion answers every authorizer check of an expression: offline,
// nobody is authorized to anything.
func noOpinion() authorizer.Authorizer {
	return authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
		return authorizer.DecisionNoOpinion, "offline: no authorizer", nil
	})
}

// denials evaluates the policy on the creation of obj and returns the
// messages of the validations that deny it: the messageExpression's
// result, else the message, else "failed expression: …"; an error
// denies under failurePolicy Fail, as in the API server.
func (e *policyEvaluator) denials(ctx context.Context, obj *unstructured.Unstructured, gvr schema.GroupVersionResource, ns *corev1.Namespace) []string {
	gvk := obj.GroupVersionKind()
	attr := admission.NewAttributesRecord(obj, nil, gvk, obj.GetNamespace(), obj.GetName(), gvr, "", admission.Create, nil, false,
		&user.DefaultInfo{Name: "purser"})
	va := &admission.VersionedAttributes{Attributes: attr, VersionedKind: gvk, VersionedObject: obj}
	req := plugincel.CreateAdmissionRequest(attr, metav1.GroupVersionResource(gvr), metav1.GroupVersionKind(gvk))
	nsObj := plugincel.CreateNamespaceObject(ns)
	fail := e.policy.Spec.FailurePolicy == nil || *e.policy.Spec.FailurePolicy == admissionv1.Fail
	bindings := plugincel.OptionalVariableBindings{Authorizer: noOpinion()}
	if len(e.policy.Spec.MatchConditions) > 0 {
		results, _, err := e.match.ForInput(ctx, va, req, bindings, nsObj, celconfig.RuntimeCELCostBudget)
		if err != nil {
			return denyOnError(fail, err.Error())
		}
		for _, r := range results {
			if r.Error != nil {
				return denyOnError(fail, r.Error.Error())
			}
			if r.EvalResult != celtypes.True {
				return nil
			}
		}
	}
	results, remaining, err := e.validations.ForInput(ctx, va, req, bindings, nsObj, celconfig.RuntimeCELCostBudget)
	if err != nil {
		return denyOnError(fail, err.Error())
	}
	msgs, _, _ := e.messages.ForInput(ctx, va, req, plugincel.OptionalVariableBindings{}, nsObj, remaining)
	var out []string
	for i, r := range results {
		if r.Error != nil {
			out = append(out, denyOnError(fail, r.Error.Error())...)
			continue
		}
		if r.EvalResult == celtypes.True {
			continue
		}
		v := e.policy.Spec.Validations[i]
		var text string
		if i < len(msgs) && msgs[i].Error == nil && msgs[i].EvalResult != nil {
			if s, ok := msgs[i].EvalResult.Value().(string); ok {
				text = strings.TrimSpace(s)
				if len(text) > celconfig.MaxEvaluatedMessageExpressionSizeBytes || strings.Contains(text, "\n") {
					text = ""
				}
			}
		}
		if text == "" {
			text = strings.TrimSpace(v.Message)
		}
		if text == "" {
			text = "failed expression: " + strings.TrimSpace(v.Expression)
		}
		out = append(out, text)
	}
	return out
}

func denyOnError(fail bool, msg string) []string {
	if fail {
		return []string{msg}
	}
	return nil
}

// DeniedMessage is the API server's message when a binding's policy
// denies a request.
func DeniedMessage(policy, binding, message string) string {
	return fmt.Sprintf("ValidatingAdmissionPolicy '%s' with binding '%s' denied request: %s", policy, binding, message)
}
