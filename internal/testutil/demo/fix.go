package demo

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// FixService corrects the selector of Service svc in s with the merge
// patch its service-no-endpoints finding suggests, and fills its
// EndpointSlice with the pods the selector now matches, as the
// endpoint-slice controller would: the snapshot of the same cluster once
// the audit's fix is applied.
func FixService(t testing.TB, s *snapshot.Snapshot, findings []audit.Finding, svc snapshot.Ref) {
	t.Helper()
	var patch string
	for _, f := range findings {
		if f.CheckID == "service-no-endpoints" && f.Object == svc && f.Remediation.Patch != nil {
			patch = f.Remediation.Patch.Body
		}
	}
	if patch == "" {
		t.Fatalf("no fixable service-no-endpoints finding on %s", svc)
	}
	var body struct {
		Spec struct {
			Selector map[string]*string `json:"selector"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(patch), &body); err != nil {
		t.Fatal(err)
	}
	var target *corev1.Service
	for i := range s.Services {
		if s.Services[i].Namespace == svc.Namespace && s.Services[i].Name == svc.Name {
			target = &s.Services[i]
		}
	}
	if target == nil {
		t.Fatalf("no %s in the snapshot", svc)
	}
	for k, v := range body.Spec.Selector {
		if v == nil {
			delete(target.Spec.Selector, k)
		} else {
			target.Spec.Selector[k] = *v
		}
	}
	var eps []discoveryv1.Endpoint
	for _, p := range snapshot.NewIndex(s).PodsMatching(svc.Namespace, target.Spec.Selector) {
		eps = append(eps, discoveryv1.Endpoint{Addresses: []string{p.Status.PodIP}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}})
	}
	if len(eps) == 0 {
		t.Fatalf("the corrected selector of %s matches no pod", svc)
	}
	for i := range s.EndpointSlices {
		if es := &s.EndpointSlices[i]; es.Namespace == svc.Namespace && es.Labels[discoveryv1.LabelServiceName] == svc.Name {
			es.Endpoints = eps
			return
		}
	}
	s.EndpointSlices = append(s.EndpointSlices, discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name + "-fixed",
			Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}},
		AddressType: discoveryv1.AddressTypeIPv4, Endpoints: eps})
}
