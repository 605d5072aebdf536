package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// pathFlag is a file named on the command line, with the flag that named
// it, for messages.
type pathFlag struct {
	flag string
	path string
	// dir is set for an output that is a directory Purser replaces as a
	// whole (--out).
	dir bool
}

// checkOutputs refuses a command line whose outputs would destroy or feed
// its inputs: an output that is an input (a saved snapshot written over
// the file it was read from, through any link or spelling), an output
// inside an input directory (the next run would read it back as a
// manifest), a tree whose directory holds an input, and two outputs that
// name one file. It reads the file system and changes nothing.
func checkOutputs(inputs, outputs []pathFlag) error {
	var outs []pathFlag
	for _, o := range outputs {
		if o.path != "" && o.path != "-" {
			outs = append(outs, o)
		}
	}
	for i, o := range outs {
		op := resolve(o.path)
		for _, in := range inputs {
			if in.path == "" || in.path == "-" {
				continue
			}
			ip := resolve(in.path)
			if sameFile(o.path, in.path) || op == ip {
				return fmt.Errorf("%s %s is the input %s %s: writing it would replace what purser reads; choose another path", o.flag, o.path, in.flag, in.path)
			}
			if isDir(in.path) && within(op, ip) {
				return fmt.Errorf("%s %s is inside the input directory %s %s: the next run would read it as input; write it elsewhere", o.flag, o.path, in.flag, in.path)
			}
			if o.dir && within(ip, op) {
				return fmt.Errorf("%s %s holds the input %s %s: the tree replaces that directory as a whole; write it elsewhere", o.flag, o.path, in.flag, in.path)
			}
		}
		for _, prev := range outs[:i] {
			if sameFile(o.path, prev.path) || op == resolve(prev.path) {
				return fmt.Errorf("%s and %s both name %s: give each output its own path", prev.flag, o.flag, o.path)
			}
			if prev.dir && within(op, resolve(prev.path)) || o.dir && within(resolve(prev.path), op) {
				return fmt.Errorf("%s %s and %s %s overlap: the tree replaces its directory as a whole; give each output its own path", prev.flag, prev.path, o.flag, o.path)
			}
		}
	}
	return nil
}

// resolve returns p absolute, with the symbolic links of p, or of its
// directory when p does not exist yet, resolved: "./a/../out.snap" and a
// link to it compare equal.
func resolve(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	if d, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(d, filepath.Base(abs))
	}
	return abs
}

// sameFile reports whether a and b exist and are one file (hard links
// included).
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(fa, fb)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// within reports whether path lies inside dir (both resolved), dir itself
// excluded.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == "." {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// inputs are the files the source flags name.
func (f *EnvFlags) inputs() []pathFlag {
	in := []pathFlag{{flag: "--from", path: f.From}, {flag: "--config", path: f.ConfigPath}, {flag: "--price-book", path: f.PriceBook}}
	if f.Kube != nil {
		in = append(in, pathFlag{flag: "--kubeconfig", path: ptrValue(f.Kube.KubeConfig)})
	}
	return in
}
