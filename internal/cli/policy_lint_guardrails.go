package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/admission"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// guardrailKind says whether an object is a guardrail that `policy lint`
// checks with the audit's manifest checks, besides the admission rules:
// the NetworkPolicies, quotas, RBAC and autoscalers a team writes in
// Phase 2 and 3 fail quietly (a selector that matches nothing, an Egress
// without DNS, a quota without its LimitRange, a binding to a role that
// does not exist, an autoscaler on a metric nothing serves), and kubectl
// accepts every one of them.
func guardrailKind(kind string) bool {
	switch kind {
	case "NetworkPolicy", "ResourceQuota", "LimitRange", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding",
		"HorizontalPodAutoscaler":
		return true
	}
	return false
}

// lintGuardrails audits the files as manifests and returns the findings
// about guardrail objects as problems, and how many guardrail objects the
// files hold. A file that is not a set of Kubernetes objects (the
// strategy prints its quotas as a bare map) is a problem itself; the
// other files are still checked.
func (o *PolicyLintOptions) lintGuardrails(ctx context.Context, stdin []byte) ([]admission.Problem, int, error) {
	var paths []string
	for _, p := range o.Files {
		if !strings.EqualFold(filepath.Ext(p), ".rego") {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return nil, 0, nil
	}
	env, err := o.manifestEnv(ctx, paths, stdin)
	var problems []admission.Problem
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		// Find the files that do not load, report them, and audit the rest
		// together so that references between files still resolve.
		var good []string
		for _, p := range expandManifestPaths(paths) {
			if _, err := o.manifestEnv(ctx, []string{p}, stdin); err != nil {
				if ctx.Err() != nil {
					return nil, 0, ctx.Err()
				}
				problems = append(problems, loadProblem(p, err))
				continue
			}
			good = append(good, p)
		}
		if len(good) == 0 {
			return problems, 0, nil
		}
		if env, err = o.manifestEnv(ctx, good, stdin); err != nil {
			return nil, 0, err
		}
	}
	res, err := action.Audit{Mode: audit.ModeManifests}.Run(ctx, env)
	if err != nil {
		return nil, 0, err
	}
	objects := countGuardrails(env.Snapshot)
	for _, f := range res.Findings {
		if !guardrailKind(f.Object.Kind) {
			continue
		}
		file := ""
		if l, ok := env.Index.Location(f.Object); ok {
			file = fmt.Sprintf("%s:%d", l.File, l.Line)
		}
		msg := f.CheckID + ": " + f.Message
		if len(f.Evidence) > 0 {
			msg += " (" + strings.Join(f.Evidence, "; ") + ")"
		}
		problems = append(problems, admission.Problem{File: file, Object: f.Object.String(), Message: msg})
	}
	return problems, objects, nil
}

func (o *PolicyLintOptions) manifestEnv(ctx context.Context, paths []string, stdin []byte) (*action.Env, error) {
	return action.NewEnv(ctx, action.Options{
		Source: action.Source{Manifests: paths, Stdin: bytes.NewReader(stdin)},
		Prices: action.PriceOptions{Offline: true},
		Log:    loggerFrom(ctx),
	})
}

// expandManifestPaths lists, for each path, the files the manifest loader
// would read in it one by one: a plain directory's .yaml, .yml and .json
// files; a directory holding a kustomization, a file or "-" stays whole.
func expandManifestPaths(paths []string) []string {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if p == "-" || err != nil || !info.IsDir() || hasKustomization(p) {
			out = append(out, p)
			continue
		}
		n := len(out)
		walkErr := filepath.WalkDir(p, func(f string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir() && f != p && (strings.HasPrefix(d.Name(), ".") || hasKustomization(f)):
				if !strings.HasPrefix(d.Name(), ".") {
					out = append(out, f)
				}
				return filepath.SkipDir
			case d.Type().IsRegular():
				switch strings.ToLower(filepath.Ext(f)) {
				case ".yaml", ".yml", ".json":
					out = append(out, f)
				}
			}
			return nil
		})
		if walkErr != nil || len(out) == n {
			// The loader's own error names the problem better.
			out = append(out[:n], p)
		}
	}
	return out
}

func hasKustomization(dir string) bool {
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return err == nil
		}
	}
	return false
}

// countGuardrails counts the guardrail objects read from the files (not
// the built-in roles the manifest reader adds).
func countGuardrails(s *snapshot.Snapshot) int {
	n := len(s.NetworkPolicies) + len(s.ResourceQuotas) + len(s.LimitRanges) + len(s.HPAs) + len(s.Roles) + len(s.RoleBindings) +
		len(s.ClusterRoleBindings)
	for i := range s.ClusterRoles {
		if !snapshot.IsBuiltin(&s.ClusterRoles[i]) {
			n++
		}
	}
	return n
}

// loadProblem is a file the manifest reader refused: the place its error
// names (file:line), else the file.
func loadProblem(path string, err error) admission.Problem {
	msg := err.Error()
	place := path
	if rest, ok := strings.CutPrefix(msg, path+":"); ok {
		if line, after, ok := strings.Cut(rest, ": "); ok && line != "" && strings.Trim(line, "0123456789") == "" {
			place, msg = path+":"+line, after
		} else {
			msg = strings.TrimSpace(rest)
		}
	}
	return admission.Problem{File: place, Object: "document", Message: msg}
}
