package checks

import (
	"strings"

	"github.com/purserhq/purser/internal/snapshot"
)

// namedReferences finds ConfigMaps and Secrets named outside pod volumes
// and env: in container arguments (ingress-nginx's
// `--configmap=$(POD_NAMESPACE)/ingress-nginx-controller`,
// `--default-ssl-certificate=ns/name`) and in Ingress annotations
// (`nginx.ingress.kubernetes.io/auth-secret`). Controllers read those
// objects through the API, so no pod template mounts them. It returns, for
// each object mentioned, where it was mentioned.
func namedReferences(ix *snapshot.Index) map[snapshot.Ref][]string {
	out := map[snapshot.Ref][]string{}
	exists := map[snapshot.Ref]bool{}
	for _, c := range ix.S.ConfigMaps {
		exists[ref("ConfigMap", c.Namespace, c.Name)] = true
	}
	for _, s := range ix.S.Secrets {
		exists[ref("Secret", s.Namespace, s.Name)] = true
	}
	mention := func(ns, value, where string) {
		value = strings.ReplaceAll(value, "$(POD_NAMESPACE)", ns)
		if i := strings.IndexByte(value, '='); i >= 0 {
			value = value[i+1:]
		}
		value = strings.Trim(value, `"' `)
		rns, name := ns, value
		if i := strings.IndexByte(value, '/'); i >= 0 {
			rns, name = value[:i], value[i+1:]
		}
		if name == "" || strings.ContainsAny(name, "/:. ") {
			return
		}
		for _, kind := range [...]string{"ConfigMap", "Secret"} {
			r := ref(kind, rns, name)
			if exists[r] {
				out[r] = append(out[r], where)
			}
		}
	}
	for _, o := range templateOwners(ix) {
		for _, c := range allContainers(o.Spec) {
			for _, a := range append(append([]string{}, c.Command...), c.Args...) {
				mention(o.Ref.Namespace, a, "argument of container "+c.Name+" of "+o.Ref.String())
			}
		}
	}
	for _, ing := range ix.S.Ingresses {
		for k, v := range ing.Annotations {
			if strings.Contains(strings.ToLower(k), "secret") || strings.Contains(strings.ToLower(k), "configmap") {
				mention(ing.Namespace, v, "annotation "+k+" of Ingress/"+ing.Namespace+"/"+ing.Name)
			}
		}
	}
	return out
}
