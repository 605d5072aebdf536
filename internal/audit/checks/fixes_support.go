package checks

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

// objectFix is a remediation that creates obj from doc: --write-fixes
// writes doc to the file the command applies, so the command never names
// a file nothing wrote.
func objectFix(checkID, text string, obj snapshot.Ref, doc string) audit.Remediation {
	file := audit.ManifestPath(checkID, obj)
	q := shell.Quote(file)
	return audit.Remediation{
		Text:     text + " " + writtenBy(file),
		Command:  fmt.Sprintf("kubectl apply --dry-run=server -f %s && kubectl apply -f %s", q, q),
		Manifest: doc,
		File:     file,
	}
}

// patchFix is a remediation that patches target with body, of kubectl's
// patch type typ ("merge", "json", "strategic"). The patch is a file of
// its own, written by --write-fixes, that the command names.
func patchFix(checkID, text string, target snapshot.Ref, typ string, body any) audit.Remediation {
	b, err := json.Marshal(body)
	if err != nil {
		// Only maps, slices and strings built by the checks are passed in.
		panic(fmt.Sprintf("patch of %s: %v", target, err))
	}
	file := audit.PatchPath(checkID, target)
	return audit.Remediation{
		Text:    text + " " + writtenBy(file),
		Command: patchCommand(target, typ, file),
		Patch:   &audit.Patch{Target: target, Type: typ, Body: string(b)},
		File:    file,
	}
}

// patchCommand applies the patch file to target.
func patchCommand(target snapshot.Ref, typ, file string) string {
	return fmt.Sprintf("kubectl patch %s %s%s --type %s --patch-file %s", shell.Quote(strings.ToLower(target.Kind)),
		shell.Quote(target.Name), nsArg(target.Namespace), typ, shell.Quote(file))
}

// writtenBy says where the file a command names comes from.
func writtenBy(file string) string { return audit.WrittenBy(file) }

// yamlString quotes s for a manifest: a JSON string is a YAML
// double-quoted scalar, so no name, however it was written in a file, can
// end the value and write YAML of its own.
func yamlString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		// Marshalling a string does not fail.
		panic(fmt.Sprintf("quoting %q: %v", s, err))
	}
	return string(b)
}
