package govern

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/purserhq/purser/internal/snapshot"
)

// QuotaResult is what Quotas generates, and the namespaces whose current
// use already exceeds their quota.
type QuotaResult struct {
	Quotas      []corev1.ResourceQuota
	LimitRanges []corev1.LimitRange
	Overuse     []Overuse
}

// Overuse is one resource of one namespace used above its quota today:
// the quota would refuse the next pod (or Service) at once.
type Overuse struct {
	Namespace, Environment, Resource string
	Use, Quota                       resource.Quantity
	// Field is where the quota comes from in the govern section
	// ("quotas.environments[1].hard.pods"), for an error with a line.
	Field string
}

func (o Overuse) Error() string {
	return fmt.Sprintf("namespace %s (%s) uses %s %s, above its quota %s", o.Namespace, o.Environment, o.Use.String(), o.Resource, o.Quota.String())
}

// QuotaName names the generated ResourceQuota and LimitRange.
const QuotaName = "purser-environment"

// Quotas writes a ResourceQuota and the LimitRange that must go with it
// (a compute quota refuses every container without requests and limits)
// for each namespace of an environment the config gives figures for:
// the environment's figures, or in usage mode the namespace's current use
// plus the headroom.
func Quotas(in Input) (*QuotaResult, error) {
	cfg := in.Config.withDefaults()
	q := cfg.Quotas
	res := &QuotaResult{}
	for ei, env := range q.Environments {
		for _, ns := range namespacesOf(in.Index, in.Classify, []string{env.Name}) {
			use := usage(in.Index, ns)
			hard := corev1.ResourceList{}
			if q.Mode == QuotaUsage {
				keys := sortedKeys(env.Hard)
				if len(keys) == 0 {
					keys = quotaResources()
				}
				for _, k := range keys {
					u := use[corev1.ResourceName(k)]
					hard[corev1.ResourceName(k)] = withHeadroom(k, u, *q.Headroom)
				}
			} else {
				hard = resourceList(env.Hard)
			}
			for _, k := range sortedKeys(hard) {
				u, h := use[corev1.ResourceName(k)], hard[corev1.ResourceName(k)]
				if u.Cmp(h) > 0 {
					res.Overuse = append(res.Overuse, Overuse{Namespace: ns, Environment: env.Name, Resource: k, Use: u, Quota: h,
						Field: fmt.Sprintf("quotas.environments[%d].hard.%s", ei, k)})
				}
			}
			meta := metav1.ObjectMeta{Name: QuotaName, Namespace: ns, Labels: managedLabels(),
				Annotations: map[string]string{ReasonAnnotation: "quota of environment " + env.Name + " (" + q.Mode + ")"}}
			res.Quotas = append(res.Quotas, corev1.ResourceQuota{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ResourceQuota"},
				ObjectMeta: meta, Spec: corev1.ResourceQuotaSpec{Hard: hard}})
			if compute(hard) {
				lm := *meta.DeepCopy()
				lm.Annotations[ReasonAnnotation] = "container defaults, so that pods without requests or limits pass the quota of environment " + env.Name
				res.LimitRanges = append(res.LimitRanges, corev1.LimitRange{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "LimitRange"},
					ObjectMeta: lm, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
						Type:           corev1.LimitTypeContainer,
						DefaultRequest: resourceList(q.LimitRange.DefaultRequest),
						Default:        resourceList(q.LimitRange.Default),
					}}}})
			}
		}
	}
	return res, nil
}

func compute(hard corev1.ResourceList) bool {
	for _, k := range []corev1.ResourceName{"requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "cpu", "memory"} {
		if _, ok := hard[k]; ok {
			return true
		}
	}
	return false
}

// usage is what a namespace counts against a quota today: the requests
// and limits of its pods that are not finished (as the quota admission
// counts them), its pods, and its LoadBalancer and NodePort Services.
func usage(ix *snapshot.Index, ns string) corev1.ResourceList {
	reqCPU, reqMem := resource.Quantity{}, resource.Quantity{}
	limCPU, limMem := resource.Quantity{}, resource.Quantity{}
	pods := int64(0)
	for _, p := range ix.PodsInNamespace(ns) {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		pods++
		r := resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{})
		l := resourcehelper.PodLimits(p, resourcehelper.PodResourcesOptions{})
		reqCPU.Add(*r.Cpu())
		reqMem.Add(*r.Memory())
		limCPU.Add(*l.Cpu())
		limMem.Add(*l.Memory())
	}
	lbs, nodePorts := int64(0), int64(0)
	for i := range ix.S.Services {
		svc := &ix.S.Services[i]
		if svc.Namespace != ns {
			continue
		}
		switch svc.Spec.Type {
		case corev1.ServiceTypeLoadBalancer:
			lbs++
			nodePorts += int64(len(svc.Spec.Ports)) // a LoadBalancer allocates node ports too
		case corev1.ServiceTypeNodePort:
			nodePorts += int64(len(svc.Spec.Ports))
		}
	}
	return corev1.ResourceList{
		"requests.cpu": reqCPU, "requests.memory": reqMem, "limits.cpu": limCPU, "limits.memory": limMem,
		"pods": *resource.NewQuantity(pods, resource.DecimalSI), "services.loadbalancers": *resource.NewQuantity(lbs, resource.DecimalSI),
		"services.nodeports": *resource.NewQuantity(nodePorts, resource.DecimalSI),
	}
}

// withHeadroom is use plus percent, rounded up to a figure a person
// would write: whole counts, CPU in tens of millicores, memory in MiB.
func withHeadroom(key string, use resource.Quantity, percent int) resource.Quantity {
	switch key {
	case "requests.cpu", "limits.cpu":
		m := ceilDiv(use.MilliValue()*int64(100+percent), 100)
		m = ceilDiv(m, 10) * 10
		return *resource.NewMilliQuantity(m, resource.DecimalSI)
	case "requests.memory", "limits.memory":
		const mi = 1 << 20
		b := ceilDiv(use.Value(), 100) * int64(100+percent)
		return *resource.NewQuantity(ceilDiv(b, mi)*mi, resource.BinarySI)
	}
	return *resource.NewQuantity(ceilDiv(use.Value()*int64(100+percent), 100), resource.DecimalSI)
}

func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}
