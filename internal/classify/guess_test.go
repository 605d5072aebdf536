package classify

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestGuess(t *testing.T) {
	t.Parallel()
	var nss []corev1.Namespace
	for _, n := range []string{"shop-prod", "shop-staging", "shop-dev", "blog", "blog-prod", "kube-system", "default", "tools", "x-"} {
		ns := corev1.Namespace{}
		ns.Name = n
		nss = append(nss, ns)
	}
	r := Guess(nss)
	want := Rules{
		Environments: []Rule{{Name: "production", Match: []string{"blog-prod", "shop-prod"}}, {Name: "staging", Match: []string{"shop-staging"}},
			{Name: "development", Match: []string{"shop-dev"}}},
		Products: []Rule{{Name: "shop", Match: []string{"shop", "shop-*"}}},
		Teams:    []Rule{{Name: "shop", Match: []string{"shop", "shop-*"}}},
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("guessed %+v\nwant %+v", r, want)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("the guess does not validate: %v", err)
	}
}
