// Package outdir writes a tree of files into the directory a user chose,
// all or nothing, and never outside it. It is the edge where engines'
// in-memory outputs (a plan's kustomize tree) become files.
package outdir

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/purserhq/purser/internal/manifest"
)

// Marker is the file WriteTree leaves at the root of every tree it
// writes. It is how WriteTree knows, the next time, that an existing
// directory is a tree of its own that it may replace.
const Marker = ".purser-tree"

const markerText = "This directory was written by purser as a whole. Writing a tree here again replaces\n" +
	"it entirely, including any file added by hand.\n"

// WriteTree writes files as a directory tree at dir, all or nothing.
//
// Every path is checked first: relative, slash-separated, no empty, "."
// or ".." segment, no backslash, NUL or control character, no file that
// is also a directory of another. The tree is then written into a fresh
// directory beside dir (same parent, so the final rename is atomic, and
// opened as an os.Root, so no symbolic link can lead a write outside it)
// and renamed into place. The parent of dir must exist.
//
// If dir exists, it is replaced only when it is empty or holds a tree
// WriteTree wrote before (it has the Marker file); anything else (a file,
// a symbolic link, a directory of someone else's) is refused, so that a
// mistyped --out never deletes what it did not write. A previous tree is
// renamed aside, the new one renamed in, and the old one removed.
//
// On failure nothing is left behind: no temporary directory, no partial
// tree, and a previous tree stays as it was. That holds when ctx is done:
// WriteTree checks it between files and before it replaces anything, and
// then returns ctx's error.
func WriteTree(ctx context.Context, dir string, files []manifest.File) (err error) {
	if dir == "" {
		return errors.New("writing tree: no directory given")
	}
	if err := checkFiles(files); err != nil {
		return fmt.Errorf("writing tree %s: %w", dir, err)
	}
	dir = filepath.Clean(dir)
	base := filepath.Base(dir)
	if base == "." || base == ".." || base == string(filepath.Separator) {
		return fmt.Errorf("writing tree %s: name a directory of its own, which the tree replaces as a whole", dir)
	}
	parent := filepath.Dir(dir)
	root, err := os.OpenRoot(parent)
	if err != nil {
		return fmt.Errorf("writing tree %s: %w", dir, err)
	}
	defer root.Close()

	empty, replace, err := existing(root, base)
	if err != nil {
		return fmt.Errorf("writing tree %s: %w", dir, err)
	}
	tmp, err := mkdirFresh(root, "."+base+".tmp-")
	if err != nil {
		return fmt.Errorf("writing tree %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			_ = root.RemoveAll(tmp)
		}
	}()
	if err := fill(ctx, root, tmp, files); err != nil {
		return fmt.Errorf("writing tree %s: %w", dir, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("writing tree %s: %w", dir, err)
	}

	if !replace {
		if empty {
			// Remove takes only an empty directory: one that filled up
			// since the check stays, and the write fails.
			if err := root.Remove(base); err != nil {
				return fmt.Errorf("writing tree %s: %w", dir, err)
			}
		}
		if err := root.Rename(tmp, base); err != nil {
			return fmt.Errorf("writing tree %s: %w", dir, err)
		}
		return syncDir(root)
	}
	aside, err := reserveName(root, "."+base+".old-")
	if err != nil {
		return fmt.Errorf("writing tree %s: %w", dir, err)
	}
	if err := root.Rename(base, aside); err != nil {
		return fmt.Errorf("writing tree %s: moving the previous tree aside: %w", dir, err)
	}
	if err := root.Rename(tmp, base); err != nil {
		if rerr := root.Rename(aside, base); rerr != nil {
			return fmt.Errorf("writing tree %s: %w; the previous tree is left at %s: %w", dir, err, filepath.Join(parent, aside), rerr)
		}
		return fmt.Errorf("writing tree %s: %w", dir, err)
	}
	if err := root.RemoveAll(aside); err != nil {
		return fmt.Errorf("tree written to %s, but removing the previous one at %s failed: %w", dir, filepath.Join(parent, aside), err)
	}
	return syncDir(root)
}

// existing tells whether base is an empty directory or a tree WriteTree
// wrote (both false: it does not exist), and refuses anything else.
func existing(root *os.Root, base string) (empty, tree bool, err error) {
	fi, err := root.Lstat(base)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, false, nil
	case err != nil:
		return false, false, err
	case fi.Mode()&fs.ModeSymlink != 0:
		return false, false, errors.New("it is a symbolic link; name the directory itself")
	case !fi.IsDir():
		return false, false, errors.New("it exists and is not a directory")
	}
	d, err := root.Open(base)
	if err != nil {
		return false, false, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return false, false, err
	}
	if len(names) == 0 {
		return true, false, nil
	}
	if mi, err := root.Lstat(path.Join(base, Marker)); err != nil || !mi.Mode().IsRegular() {
		return false, false, fmt.Errorf("it exists, is not empty and was not written by purser (it has no %s): remove it or choose another directory", Marker)
	}
	return false, true, nil
}

// checkFiles refuses any path that could leave the tree or that the tree
// cannot hold, naming it.
func checkFiles(files []manifest.File) error {
	seen := map[string]bool{}
	dirs := map[string]bool{}
	for _, f := range files {
		if err := checkPath(f.Path); err != nil {
			return err
		}
		if f.Path == Marker {
			return fmt.Errorf("file %q: the name is reserved for the tree's marker", f.Path)
		}
		if seen[f.Path] {
			return fmt.Errorf("file %q: given twice", f.Path)
		}
		seen[f.Path] = true
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for _, f := range files {
		if dirs[f.Path] {
			return fmt.Errorf("file %q: also a directory of another file", f.Path)
		}
	}
	return nil
}

func checkPath(p string) error {
	if p == "" {
		return errors.New("a file has no path")
	}
	if strings.HasPrefix(p, "/") || filepath.IsAbs(p) {
		return fmt.Errorf("file %q: absolute path", p)
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "":
			return fmt.Errorf("file %q: empty path segment", p)
		case ".", "..":
			return fmt.Errorf("file %q: %q segment", p, seg)
		}
	}
	for _, c := range []byte(p) {
		if c < 0x20 || c == 0x7f || c == '\\' || c == ':' {
			return fmt.Errorf("file %q: byte %#02x is not allowed in a path", p, c)
		}
	}
	return nil
}

// fill writes files into tmp, a directory it just created.
func fill(ctx context.Context, root *os.Root, tmp string, files []manifest.File) error {
	sub, err := root.OpenRoot(tmp)
	if err != nil {
		return err
	}
	defer sub.Close()
	all := append([]manifest.File{{Path: Marker, Data: []byte(markerText)}}, files...)
	for _, f := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		if d := path.Dir(f.Path); d != "." {
			if err := sub.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		if err := writeFile(sub, f); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(root *os.Root, f manifest.File) error {
	w, err := root.OpenFile(f.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := w.Write(f.Data); err != nil {
		w.Close()
		return fmt.Errorf("writing %s: %w", f.Path, err)
	}
	// Synced before the rename, so a crash never publishes empty files.
	if err := w.Sync(); err != nil {
		w.Close()
		return fmt.Errorf("writing %s: %w", f.Path, err)
	}
	return w.Close()
}

// mkdirFresh creates a directory with a random name starting with prefix.
func mkdirFresh(root *os.Root, prefix string) (string, error) {
	for range 10 {
		name, err := randomName(prefix)
		if err != nil {
			return "", err
		}
		err = root.Mkdir(name, 0o755)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", errors.New("no free temporary name")
}

// reserveName returns a random name starting with prefix that does not
// exist yet.
func reserveName(root *os.Root, prefix string) (string, error) {
	for range 10 {
		name, err := randomName(prefix)
		if err != nil {
			return "", err
		}
		if _, err := root.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			return name, nil
		}
	}
	return "", errors.New("no free temporary name")
}

func randomName(prefix string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	// Long base names are cut so the temporary name stays a valid segment.
	if len(prefix) > manifest.MaxSegment-len(b)*2 {
		prefix = prefix[:manifest.MaxSegment-len(b)*2]
	}
	return prefix + hex.EncodeToString(b[:]), nil
}

// syncDir makes the renames durable.
func syncDir(root *os.Root) error {
	d, err := root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("syncing %s: %w", root.Name(), err)
	}
	return nil
}
