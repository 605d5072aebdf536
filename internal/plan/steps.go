package plan

import (
	"encoding/json"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/manifest"
	"github.com/purserhq/purser/internal/shell"
)

// steps writes the ordered migration of target t. Secret values are not
// in the snapshot, so secrets are copied from the cluster at migration
// time; volumes are handed over, never copied.
func (b *builder) steps(t string) {
	tg := b.targets[t]
	add := func(text, cmd string) { tg.Steps = append(tg.Steps, Step{Text: text, Command: cmd}) }
	if !tg.Exists {
		add("Create the target namespace (the tree holds it too).", "kubectl create namespace "+shell.Quote(t))
	}
	helm := map[string]bool{}
	var claims []*object
	for _, src := range tg.Sources {
		if src == t {
			continue
		}
		for _, o := range b.objs[src] {
			if o.obj.GetLabels()["app.kubernetes.io/managed-by"] == "Helm" {
				helm[src] = true
			}
			switch o.kind {
			case "Secret":
				d := b.destOf(o.kind, o.ns, o.name)
				add(fmt.Sprintf("Copy Secret %s/%s to %s/%s from the live cluster (the plan never holds secret values).", o.ns, o.name, d.ns, d.name),
					fmt.Sprintf("kubectl get secret %s -n %s -o json | jq %s | kubectl apply -f -", shell.Quote(o.name), shell.Quote(o.ns),
						shell.Quote(".metadata |= {name: "+jqString(d.name)+", namespace: "+jqString(d.ns)+", labels: .labels, annotations: .annotations}")))
			case "PersistentVolumeClaim":
				claims = append(claims, o)
			}
		}
	}
	for _, o := range claims {
		pvc, _ := o.obj.(*corev1.PersistentVolumeClaim)
		pv := pvc.Spec.VolumeName
		users := b.ix.UsersOf(refOf(o))
		var who []string
		for _, u := range users {
			who = append(who, u.String())
		}
		sort.Strings(who)
		text := fmt.Sprintf("Hand volume %s from claim %s/%s to %s/%s: keep the volume, release the claim, free the volume for the new claim.",
			pv, o.ns, o.name, pvc.Namespace, pvc.Name)
		if len(who) > 0 {
			text += fmt.Sprintf(" First stop what mounts it: %v.", who)
		}
		add(text, fmt.Sprintf("kubectl patch pv %s -p '{\"spec\":{\"persistentVolumeReclaimPolicy\":\"Retain\"}}' && "+
			"kubectl delete pvc %s -n %s --wait && "+
			"kubectl patch pv %s --type json -p '[{\"op\":\"remove\",\"path\":\"/spec/claimRef\"}]'",
			shell.Quote(pv), shell.Quote(o.name), shell.Quote(o.ns), shell.Quote(pv)))
	}
	add("Apply the target's manifests (claims bind to their volumes by volumeName).", "kubectl apply --server-side -k "+shell.Quote(manifest.SafeName(t)))
	add("Check that the workloads run and the Services have endpoints before deleting anything.",
		"kubectl get pods,endpointslices -n "+shell.Quote(t))
	srcs := make([]string, 0, len(tg.Sources))
	for _, s := range tg.Sources {
		if s != t {
			srcs = append(srcs, s)
		}
	}
	for s := range helm {
		tg.Risks = append(tg.Risks, Issue{Kind: "helm-release", Objects: []string{"namespace " + s},
			Message: fmt.Sprintf("objects of %s are managed by Helm, whose release records stay in %s: reinstall the release in %s (helm install -n %s) or it loses track of them", s, s, t, t)})
	}
	sort.Slice(tg.Risks, func(i, j int) bool {
		if tg.Risks[i].Kind != tg.Risks[j].Kind {
			return tg.Risks[i].Kind < tg.Risks[j].Kind
		}
		return fmt.Sprint(tg.Risks[i].Objects) < fmt.Sprint(tg.Risks[j].Objects)
	})
	for _, s := range append(srcs, tg.EmptySources...) {
		add("Delete the source namespace "+s+".", "kubectl delete namespace "+shell.Quote(s))
	}
	if len(claims) > 0 {
		add("Once the data is checked, set the reclaim policy of the handed-over volumes back to Delete if that was the policy.", "")
	}
}

// jqString is s as a jq string literal. jq reads JSON string escapes, and
// JSON escapes every backslash, so s cannot open a jq interpolation.
func jqString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}
