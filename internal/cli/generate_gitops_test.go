package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/outdir"
)

// --out writes the tree the engine's golden lists, with the README, and
// says what it left out.
func TestGenerateGitOps(t *testing.T) {
	t.Parallel()
	demo, err := os.ReadFile(filepath.Join("..", "scenario", "blueocean-purser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, strings.SplitN(string(demo), "\nkind: Config\n", 2)[1]+`govern:
  gitops:
    repoURL: https://github.com/nexia/infrastructure.git
    revision: main
    cluster: blueocean
`)
	dir := filepath.Join(t.TempDir(), "repo")
	_, stderr, err := run(t, "generate", "gitops", "--demo", "--config", cfg, "--force", "--out", dir)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	var got []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == outdir.Marker {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		got = append(got, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "govern", "testdata", "demo-gitops-tree.txt"))
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := strings.Fields(string(want))
	slices.Sort(got)
	slices.Sort(wantFiles)
	if !slices.Equal(got, wantFiles) {
		t.Errorf("%s holds %d files, the golden tree %d", dir, len(got), len(wantFiles))
	}
	for _, w := range []string{"Warning: ", "uses 1 services.loadbalancers, above its quota 0",
		"5 applications (9 overlays), 25 platform namespaces, 11 Argo CD Applications in clusters/blueocean; 1 Secrets listed in README.md, not written",
		"Secrets to provide: postgres-central/postgres-credentials (Opaque)"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if strings.Contains(stderr, "repoURL is not set") {
		t.Errorf("warned of an unset repoURL although the config sets it:\n%s", stderr)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"generate", "gitops", "--demo"}, "purser generate gitops writes a repository tree: give it a directory with --out DIR"},
		{[]string{"generate", "gitops", "--demo", "--out", filepath.Join(t.TempDir(), "x")},
			"namespace nextstep-dev (development) uses 1 services.loadbalancers, above its quota 0; raise it, or pass --force"},
		{[]string{"generate", "gitops", "--demo", "--force", "--config", writeConfig(t, "govern:\n  gitops:\n    repoURL: \"not a url\"\n"), "--out", filepath.Join(t.TempDir(), "x")},
			`:5: govern.gitops.repoURL: "not a url" is not a repository URL`},
		{[]string{"generate", "gitops", "--demo", "--force", "--config", writeConfig(t, "govern:\n  rbac:\n    access:\n    - {group: devs, roles: {production: production-readonly}}\n"), "--out", filepath.Join(t.TempDir(), "x")},
			`:6: govern.rbac.access[0].roles.production: ClusterRole "production-readonly" does not exist`},
	} {
		if _, _, err := run(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
