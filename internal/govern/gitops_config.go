package govern

import (
	"net/url"

	"k8s.io/apimachinery/pkg/util/validation"
)

// GitOpsConfig is govern.gitops: where the generated repository lives and
// how Argo CD deploys it.
//
//	gitops:
//	  repoURL: https://github.com/nexia/infrastructure.git
//	  revision: main
//	  cluster: blueocean
//	  argoNamespace: argocd
//	  project: default
//	  server: https://kubernetes.default.svc
type GitOpsConfig struct {
	// RepoURL is the repository the tree is pushed to, which the Argo CD
	// Applications read; a placeholder until set, with a warning.
	RepoURL string `yaml:"repoURL"`
	// Revision is the branch or tag the Applications follow; default HEAD.
	Revision string `yaml:"revision"`
	// Cluster names the directory under clusters/; default the
	// kubeconfig context, else "cluster".
	Cluster string `yaml:"cluster"`
	// ArgoNamespace is where Argo CD runs; default argocd.
	ArgoNamespace string `yaml:"argoNamespace"`
	// Project is the Argo CD project of the Applications; default default.
	Project string `yaml:"project"`
	// Server is the API server the Applications deploy to; default the
	// cluster Argo CD runs in.
	Server string `yaml:"server"`
}

func (g GitOpsConfig) validate() error {
	if g.RepoURL != "" {
		if u, err := url.Parse(g.RepoURL); err != nil || (u.Scheme == "" && u.User == nil && u.Host == "") {
			// git@host:org/repo.git parses as a path: accept the scp form too.
			if !scpLike(g.RepoURL) {
				return fieldErr("gitops.repoURL", "%q is not a repository URL", g.RepoURL)
			}
		}
	}
	for _, f := range []struct{ path, v string }{{"gitops.cluster", g.Cluster}, {"gitops.argoNamespace", g.ArgoNamespace}, {"gitops.project", g.Project}} {
		if f.v != "" && len(validation.IsDNS1123Label(f.v)) > 0 {
			return fieldErr(f.path, "%q is not a DNS label", f.v)
		}
	}
	if g.Server != "" {
		if u, err := url.Parse(g.Server); err != nil || u.Scheme != "https" || u.Host == "" {
			return fieldErr("gitops.server", "%q is not an https URL of an API server", g.Server)
		}
	}
	return nil
}

func scpLike(s string) bool {
	at, colon := -1, -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '@':
			if at < 0 {
				at = i
			}
		case ':':
			if colon < 0 {
				colon = i
			}
		case ' ', '\n', '\t':
			return false
		}
	}
	return at > 0 && colon > at+1 && colon < len(s)-1
}
