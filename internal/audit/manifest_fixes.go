package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/purserhq/purser/internal/snapshot"
)

// asFileEdit turns a finding's live remediation into an edit of the
// manifests: manifests are changed in their files and shipped, not
// patched in a cluster that does not hold them yet. It names the file
// and line of the object and the exact change (the patch, the object to
// add, or what the live command would do), and drops the command. Over a
// cluster, a finding about a cluster object (no file) keeps its command.
func asFileEdit(f *Finding, ix *snapshot.Index, overCluster bool) {
	r := &f.Remediation
	target := f.Object
	if r.Patch != nil {
		target = r.Patch.Target
	}
	_, located := ix.Location(target)
	if overCluster && !located {
		return
	}
	place := EditPlace(ix, target)
	// The sentence that sends the reader to run the command goes with
	// the command.
	r.Text = strings.TrimSpace(strings.Replace(r.Text, WrittenBy(r.File), "", 1))
	live := ""
	if r.Command != "" {
		live = fmt.Sprintf(" On a running cluster the fix would be `%s`.", r.Command)
	}
	switch {
	case r.Patch != nil:
		body := []byte(r.Patch.Body)
		var compact bytes.Buffer
		if json.Compact(&compact, body) == nil {
			body = compact.Bytes()
		}
		r.Text += fmt.Sprintf(" In %s, change the manifest as this %s patch says: %s (--write-fixes writes it to %s, "+
			"a patch of the kustomize component it writes).", place, patchName(r.Patch.Type), body, r.File)
	case r.Manifest != "":
		r.Text += fmt.Sprintf(" Ship the object of %s (written by --write-fixes, listed in its kustomize component) with the "+
			"manifests of %s.%s", r.File, place, live)
	case r.Command != "":
		r.Text += fmt.Sprintf(" Make that change in %s.%s", place, live)
	default:
		return
	}
	r.Command = ""
}

// patchName names a kubectl patch type in words.
func patchName(t string) string {
	switch t {
	case "json":
		return "JSON (RFC 6902)"
	case "merge":
		return "JSON merge"
	default:
		return "strategic merge"
	}
}

// WrittenBy says where the file a remediation's command names comes from.
func WrittenBy(file string) string {
	return "The command's file, " + file + ", is written by `purser audit --write-fixes DIR`: run it in DIR."
}

// EditPlace names where a person edits an object of the manifests: its
// file and line; for an object of a kustomize build, whose line is in the
// build's output, the kustomization whose sources define it; else the
// object (read from stdin).
func EditPlace(ix *snapshot.Index, r snapshot.Ref) string {
	loc, ok := ix.Location(r)
	if !ok {
		return "the manifest of " + r.String()
	}
	switch path.Base(filepath.ToSlash(loc.File)) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return fmt.Sprintf("the sources of %s that define %s (a kustomize build)", loc.File, r)
	}
	return fmt.Sprintf("%s:%d (%s)", loc.File, loc.Line, r)
}
