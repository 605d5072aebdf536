package admission

import (
	"context"
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/cel/environment"
)

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
		named[i] = &validating.Variable{Name: v.Name, Expression: v.Expression}
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
		check(fmt.Sprintf("spec.variables[%d].expression", i), &validating.Variable{Name: v.Name, Expression: v.Expression}, vars)
	}
	for i, m := range p.Spec.MatchConditions {
		check(fmt.Sprintf("spec.matchConditions[%d].expression", i), &validating.ValidationCondition{Expression: m.Expression}, vars)
	}
	if len(p.Spec.Validations) == 0 && len(p.Spec.AuditAnnotations) == 0 {
		out = append(out, "spec.validations: Required value: validations or auditAnnotations must contain at least one item")
	}
	for i, v := range p.Spec.Validations {
		check(fmt.Sprintf("spec.validations[%d].expression", i), &validating.ValidationCondition{Expression: v.Expression}, vars)
		if v.MessageExpression != "" {
			check(fmt.Sprintf("spec.validations[%d].messageExpression", i), &validating.MessageExpressionCondition{MessageExpression: v.MessageExpression}, msgVars)
		}
	}
	if p.Spec.MatchConstraints == nil || len(p.Spec.MatchConstraints.ResourceRules) == 0 {
		out = append(out, "spec.matchConstraints.resourceRules: Required value")
	}
	return out
}

// policyEvaluator evaluates one policy through the validating admission
// plugin's own validator.
type policyEvaluator struct {
	policy    *admissionv1.ValidatingAdmissionPolicy
	validator validating.Validator
}

func newPolicyEvaluator(p *admissionv1.ValidatingAdmissionPolicy) (*policyEvaluator, error) {
	c, vars, err := compiler(p)
	if err != nil {
		return nil, err
	}
	msgVars := vars
	msgVars.HasAuthorizer = false
	var validations, messages []plugincel.ExpressionAccessor
	for _, v := range p.Spec.Validations {
		validations = append(validations, &validating.ValidationCondition{Expression: v.Expression, Message: v.Message, Reason: v.Reason})
		if v.MessageExpression != "" {
			messages = append(messages, &validating.MessageExpressionCondition{MessageExpression: v.MessageExpression})
		} else {
			messages = append(messages, nil)
		}
	}
	v := validating.NewValidator(
		c.CompileCondition(validations, vars, environment.StoredExpressions),
		nil,
		c.CompileCondition(nil, vars, environment.StoredExpressions),
		c.CompileCondition(messages, msgVars, environment.StoredExpressions),
		p.Spec.FailurePolicy,
	)
	return &policyEvaluator{policy: p, validator: v}, nil
}

// denials evaluates the policy on the creation of obj and returns the
// messages of the validations that deny it.
func (e *policyEvaluator) denials(ctx context.Context, obj *unstructured.Unstructured, gvr schema.GroupVersionResource, ns *corev1.Namespace) []string {
	gvk := obj.GroupVersionKind()
	attr := admission.NewAttributesRecord(obj, nil, gvk, obj.GetNamespace(), obj.GetName(), gvr, "", admission.Create, nil, false,
		&user.DefaultInfo{Name: "purser"})
	va := &admission.VersionedAttributes{Attributes: attr, VersionedKind: gvk, VersionedObject: obj}
	res := e.validator.Validate(ctx, gvr, va, nil, ns, celconfig.RuntimeCELCostBudget, nil)
	var out []string
	for _, d := range res.Decisions {
		if d.Action == validating.ActionDeny {
			out = append(out, strings.TrimSpace(d.Message))
		}
	}
	return out
}

// DeniedMessage is the API server's message when a binding's policy
// denies a request.
func DeniedMessage(policy, binding, message string) string {
	return fmt.Sprintf("ValidatingAdmissionPolicy '%s' with binding '%s' denied request: %s", policy, binding, message)
}
