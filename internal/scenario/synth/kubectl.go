package synth

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/purserhq/purser/internal/snapshot"
)

// WriteKubectlJSON writes the objects of a generated snapshot as
// `kubectl get -A -o json` prints them: one List, indented by four spaces.
// Items are written one at a time, so that a 150,000-pod export is never
// held in memory as a whole. It covers the kinds Generate creates and
// refuses a snapshot with any other, rather than leave objects out.
func WriteKubectlJSON(ctx context.Context, w io.Writer, s *snapshot.Snapshot) error {
	if err := onlyGeneratedKinds(s); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := io.WriteString(bw, "{\n    \"apiVersion\": \"v1\",\n    \"items\": ["); err != nil {
		return fmt.Errorf("kubectl export: %w", err)
	}
	first := true
	item := func(apiVersion, kind string, o runtime.Object) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("kubectl export interrupted: %w", err)
		}
		typed := typedItem{APIVersion: apiVersion, Kind: kind, Object: o}
		b, err := json.MarshalIndent(typed, "        ", "    ")
		if err != nil {
			m, _ := meta(o)
			return fmt.Errorf("kubectl export: %s %s: %w", kind, m, err)
		}
		sep := ",\n        "
		if first {
			sep, first = "\n        ", false
		}
		if _, err := bw.WriteString(sep); err != nil {
			return fmt.Errorf("kubectl export: %w", err)
		}
		if _, err := bw.Write(b); err != nil {
			return fmt.Errorf("kubectl export: %w", err)
		}
		return nil
	}
	if err := eachGenerated(s, item); err != nil {
		return err
	}
	if _, err := io.WriteString(bw, "\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n"); err != nil {
		return fmt.Errorf("kubectl export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("kubectl export: %w", err)
	}
	return nil
}

// typedItem writes apiVersion and kind first, as kubectl does, then the
// object's own fields.
type typedItem struct {
	APIVersion string
	Kind       string
	Object     runtime.Object
}

func (t typedItem) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(t.Object)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, err
	}
	fields["apiVersion"], _ = json.Marshal(t.APIVersion)
	fields["kind"], _ = json.Marshal(t.Kind)
	return json.Marshal(fields) // keys sorted, as kubectl prints them
}

func meta(o runtime.Object) (string, error) {
	m, ok := o.(metav1.Object)
	if !ok {
		return "", fmt.Errorf("not an object")
	}
	if m.GetNamespace() == "" {
		return m.GetName(), nil
	}
	return m.GetNamespace() + "/" + m.GetName(), nil
}

// eachGenerated calls fn on every object of the kinds Generate creates.
func eachGenerated(s *snapshot.Snapshot, fn func(apiVersion, kind string, o runtime.Object) error) error {
	type list struct {
		apiVersion, kind string
		n                int
		at               func(i int) runtime.Object
	}
	lists := []list{
		{"v1", "Namespace", len(s.Namespaces), func(i int) runtime.Object { return &s.Namespaces[i] }},
		{"v1", "Node", len(s.Nodes), func(i int) runtime.Object { return &s.Nodes[i] }},
		{"v1", "PersistentVolume", len(s.PVs), func(i int) runtime.Object { return &s.PVs[i] }},
		{"v1", "ServiceAccount", len(s.ServiceAccounts), func(i int) runtime.Object { return &s.ServiceAccounts[i] }},
		{"v1", "ConfigMap", len(s.ConfigMaps), func(i int) runtime.Object { return &s.ConfigMaps[i] }},
		{"v1", "Secret", len(s.Secrets), func(i int) runtime.Object { return &s.Secrets[i] }},
		{"v1", "PersistentVolumeClaim", len(s.PVCs), func(i int) runtime.Object { return &s.PVCs[i] }},
		{"apps/v1", "Deployment", len(s.Deployments), func(i int) runtime.Object { return &s.Deployments[i] }},
		{"apps/v1", "ReplicaSet", len(s.ReplicaSets), func(i int) runtime.Object { return &s.ReplicaSets[i] }},
		{"v1", "Pod", len(s.Pods), func(i int) runtime.Object { return &s.Pods[i] }},
		{"v1", "Service", len(s.Services), func(i int) runtime.Object { return &s.Services[i] }},
		{"discovery.k8s.io/v1", "EndpointSlice", len(s.EndpointSlices), func(i int) runtime.Object { return &s.EndpointSlices[i] }},
		{"autoscaling/v2", "HorizontalPodAutoscaler", len(s.HPAs), func(i int) runtime.Object { return &s.HPAs[i] }},
		{"networking.k8s.io/v1", "NetworkPolicy", len(s.NetworkPolicies), func(i int) runtime.Object { return &s.NetworkPolicies[i] }},
	}
	for _, l := range lists {
		for i := range l.n {
			o := l.at(i).DeepCopyObject()
			if err := fn(l.apiVersion, l.kind, o); err != nil {
				return err
			}
		}
	}
	return nil
}

func onlyGeneratedKinds(s *snapshot.Snapshot) error {
	for _, k := range []struct {
		name string
		n    int
	}{
		{"StatefulSets", len(s.StatefulSets)}, {"DaemonSets", len(s.DaemonSets)}, {"Jobs", len(s.Jobs)}, {"CronJobs", len(s.CronJobs)},
		{"PDBs", len(s.PDBs)}, {"StorageClasses", len(s.StorageClasses)}, {"Ingresses", len(s.Ingresses)},
		{"ResourceQuotas", len(s.ResourceQuotas)}, {"LimitRanges", len(s.LimitRanges)}, {"Roles", len(s.Roles)},
		{"RoleBindings", len(s.RoleBindings)}, {"ClusterRoles", len(s.ClusterRoles)}, {"ClusterRoleBindings", len(s.ClusterRoleBindings)},
		{"Events", len(s.Events)}, {"CRDs", len(s.CRDs)}, {"Others", len(s.Others)},
	} {
		if k.n > 0 {
			return fmt.Errorf("kubectl export: the snapshot holds %d %s, a kind the generator does not create", k.n, k.name)
		}
	}
	return nil
}
