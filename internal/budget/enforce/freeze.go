package enforce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/budget"
)

// FreezeName is the ResourceQuota block-new-resources creates in each
// namespace of a budget's scope.
const FreezeName = "purser-budget-freeze"

// OperationLabel marks what Purser created, with the operation's ID; the
// freeze is deleted only when it carries it, so that a quota a user
// happened to name the same is never touched.
const OperationLabel = "purser.dev/operation"

// FreezeState is what a freeze found in one namespace before it changed
// anything.
type FreezeState struct {
	Namespace string `json:"namespace"`
	Usage     Usage  `json:"usage"`
	// UserQuotas are the namespace's other ResourceQuotas, which the
	// freeze adds to and never changes.
	UserQuotas []string `json:"userQuotas"`
	// Existed is set when Purser's freeze was there already (a run that
	// stopped half-way).
	Existed bool `json:"existed"`
}

// freeze caps the pods and LoadBalancer Services of each namespace at
// their current use: the API server then refuses a new pod or
// LoadBalancer with a quota error, and the namespace's workloads keep
// running.
func (e *Enforcer) freeze(ctx context.Context, s budget.Step) ([]FreezeState, error) {
	if e.Kube == nil {
		return nil, errors.New("no cluster to freeze")
	}
	var out []FreezeState
	for _, ns := range s.Namespaces {
		use := e.Usage[ns]
		fs := FreezeState{Namespace: ns, Usage: use, UserQuotas: []string{}}
		list, err := e.Kube.CoreV1().ResourceQuotas(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return out, fmt.Errorf("namespace %s: listing its ResourceQuotas: %w", ns, err)
		}
		for _, q := range list.Items {
			switch {
			case q.Name != FreezeName:
				fs.UserQuotas = append(fs.UserQuotas, q.Name)
			case q.Labels[OperationLabel] == "":
				return out, fmt.Errorf("namespace %s: ResourceQuota %s exists and is not Purser's (no %s label): left alone", ns, FreezeName, OperationLabel)
			default:
				fs.Existed = true
			}
		}
		out = append(out, fs)
		if fs.Existed {
			continue
		}
		q := &corev1.ResourceQuota{
			ObjectMeta: metav1.ObjectMeta{Name: FreezeName, Namespace: ns,
				Labels:      map[string]string{OperationLabel: s.Operation, "app.kubernetes.io/managed-by": "purser"},
				Annotations: map[string]string{"purser.dev/budget": s.Budget, "purser.dev/reason": s.Why}},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
				corev1.ResourcePods:                  *resource.NewQuantity(use.Pods, resource.DecimalSI),
				corev1.ResourceServicesLoadBalancers: *resource.NewQuantity(use.LoadBalancers, resource.DecimalSI),
			}},
		}
		if _, err := e.Kube.CoreV1().ResourceQuotas(ns).Create(ctx, q, metav1.CreateOptions{FieldManager: "purser"}); err != nil {
			return out, fmt.Errorf("namespace %s: creating ResourceQuota %s: %w", ns, FreezeName, err)
		}
	}
	return out, nil
}

// unfreeze deletes the freeze of each namespace, only if it is Purser's
// and only that very object (a UID precondition).
func (e *Enforcer) unfreeze(ctx context.Context, s budget.Step) error {
	if e.Kube == nil {
		return errors.New("no cluster to lift the freeze from")
	}
	var errs []error
	for _, ns := range s.Namespaces {
		q, err := e.Kube.CoreV1().ResourceQuotas(ns).Get(ctx, FreezeName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("namespace %s: reading ResourceQuota %s: %w", ns, FreezeName, err))
			continue
		}
		if q.Labels[OperationLabel] == "" {
			e.logger().Warn("ResourceQuota is not Purser's: left alone", "namespace", ns, "name", FreezeName)
			continue
		}
		uid := q.UID
		err = e.Kube.CoreV1().ResourceQuotas(ns).Delete(ctx, FreezeName, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("namespace %s: deleting ResourceQuota %s: %w", ns, FreezeName, err))
		}
	}
	return errors.Join(errs...)
}

func (e *Enforcer) logger() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}
