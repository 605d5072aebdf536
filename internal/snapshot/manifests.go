package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ManifestOptions say how to read manifests that have not been applied.
type ManifestOptions struct {
	// Namespace is given to namespaced objects that name none, as
	// kubectl apply -n does; "default" when empty. When set, an object
	// that names another namespace is an error, as it is for kubectl.
	Namespace string
	// Stdin is read for the path "-" (rendered Helm output, say).
	Stdin  io.Reader
	Limits LoadOptions
	// Kustomize builds the kustomization in a directory and returns its
	// objects as YAML (kustomize.Build). It is given rather than linked:
	// the kustomize API would weigh on every engine that reads
	// snapshots. Nil refuses directories that hold a kustomization.
	Kustomize func(dir string) ([]byte, error)
}

// LoadManifestSet reads manifests before they ship: files, directories
// (a directory holding a kustomization is built in-process, as kubectl
// apply -k would), and "-" for stdin. Unlike Load, the objects are taken
// as they would be applied: namespaced objects without a namespace get
// o.Namespace, and the objects every cluster already has (the bootstrap
// ClusterRoles, each namespace's default ServiceAccount and
// kube-root-ca.crt ConfigMap, kube-system's kube-dns Service) are added
// unless the set defines them, so that a reference to them is not taken
// for a reference to nothing.
func LoadManifestSet(ctx context.Context, paths []string, o ManifestOptions) (*Snapshot, error) {
	if len(paths) == 0 {
		return nil, errors.New("no manifests given")
	}
	ns := o.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	b := newBudget(o.Limits)
	l := newLoader(ctx, strings.Join(paths, ","), time.Time{})
	l.defaultNamespace = ns
	stdinRead := false
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if p == "-" {
			if stdinRead {
				return nil, errors.New("- (stdin) is given twice")
			}
			stdinRead = true
			if o.Stdin == nil {
				return nil, errors.New("reading stdin: no input")
			}
			data, err := b.read(ctx, "<stdin>", o.Stdin, 0)
			if err != nil {
				return nil, wrapRead("stdin", err)
			}
			if err := l.addManifests("<stdin>", data); err != nil {
				return nil, err
			}
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, errors.Unwrap(err))
		}
		if !st.IsDir() {
			data, err := b.readFile(ctx, p)
			if err != nil {
				return nil, err
			}
			if err := l.addManifests(p, data); err != nil {
				return nil, err
			}
			continue
		}
		if k := kustomization(p); k != "" {
			data, err := build(o.Kustomize, p)
			if err != nil {
				return nil, err
			}
			// The build's output counts against the input limit like a
			// file of that size would.
			if data, err = b.read(ctx, k, bytes.NewReader(data), int64(len(data))); err != nil {
				return nil, wrapRead(k, err)
			}
			if len(bytes.TrimSpace(data)) == 0 {
				return nil, fmt.Errorf("kustomize build %s: no objects", p)
			}
			if err := l.addManifests(k, data); err != nil {
				return nil, err
			}
			continue
		}
		if err := l.addManifestDir(ctx, b, p, o.Kustomize); err != nil {
			return nil, err
		}
	}
	s := l.finish()
	if o.Namespace != "" {
		if err := inNamespace(s, o.Namespace); err != nil {
			return nil, err
		}
	}
	addBuiltins(s)
	return s, nil
}

func wrapRead(name string, err error) error {
	var le *LimitError
	if errors.As(err, &le) {
		return err
	}
	return fmt.Errorf("reading %s: %w", name, err)
}

// kustomization returns the kustomization file of dir, "" when it has none.
func kustomization(dir string) string {
	// The names kustomize itself looks for, in its order.
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// build runs kustomize on dir, or says that it cannot.
func build(kustomize func(string) ([]byte, error), dir string) ([]byte, error) {
	if kustomize == nil {
		return nil, fmt.Errorf("%s holds a kustomization, and this reader builds none", dir)
	}
	return kustomize(dir)
}

// addManifestDir reads the .yaml, .yml and .json files under dir, in
// name order, skipping hidden directories and what is not a regular file.
// A subdirectory holding a kustomization is built, not read file by file:
// its files are patches and parts, not objects to apply as they are.
func (l *loader) addManifestDir(ctx context.Context, b *budget, dir string, kustomize func(string) ([]byte, error)) error {
	var files []string
	var kustomized []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p == dir {
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if kustomization(p) != "" {
				kustomized = append(kustomized, p)
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			info, err := os.Stat(p)
			if err != nil {
				return err
			}
			if !info.Mode().IsRegular() {
				l.warnings = append(l.warnings, fmt.Sprintf("%s: skipped: not a regular file (%s)", p, fileKind(info.Mode())))
				return nil
			}
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("reading directory %s: %w", dir, err)
	}
	if len(files) == 0 && len(kustomized) == 0 {
		return fmt.Errorf("reading directory %s: no .yaml, .yml or .json files", dir)
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := b.readFile(ctx, f)
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		if err := l.addManifests(f, data); err != nil {
			return err
		}
	}
	for _, k := range kustomized {
		data, err := build(kustomize, k)
		if err != nil {
			return err
		}
		name := kustomization(k)
		if data, err = b.read(ctx, name, bytes.NewReader(data), int64(len(data))); err != nil {
			return wrapRead(name, err)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		if err := l.addManifests(name, data); err != nil {
			return err
		}
	}
	return nil
}

// withNamespace sets metadata.namespace in the JSON of one object.
func withNamespace(raw []byte, ns string) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(obj["metadata"], &meta); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	v, err := json.Marshal(ns)
	if err != nil {
		return nil, err
	}
	meta["namespace"] = v
	if obj["metadata"], err = json.Marshal(meta); err != nil {
		return nil, err
	}
	return json.Marshal(obj)
}

// inNamespace refuses a namespaced object outside ns, as kubectl apply -n
// does: the manifests would not land where the user said.
func inNamespace(s *Snapshot, ns string) error {
	var bad []string
	for _, k := range kinds() {
		if !k.Namespaced {
			continue
		}
		k.each(s, func(o metav1.Object) {
			if o.GetNamespace() != ns {
				bad = append(bad, fmt.Sprintf("%s %s/%s", k.Kind, o.GetNamespace(), o.GetName()))
			}
		})
	}
	for _, o := range s.Others {
		if o.Namespace != "" && o.Namespace != ns {
			bad = append(bad, fmt.Sprintf("%s %s/%s", o.Kind, o.Namespace, o.Name))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("the namespace of %s does not match the namespace %q given with -n", oneLine(strings.Join(bad, ", ")), ns)
}
