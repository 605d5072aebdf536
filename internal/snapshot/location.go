package snapshot

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Locations records where the objects read from files were found, so that
// a report can point at the line a person edits (SARIF for code scanning,
// an editor's problem list). Live objects have none.
//
// It is kept in Meta, whose JSON record older readers decode leniently: a
// saved snapshot with locations loads in a Purser that knows nothing of
// them, and one without loads here with no locations.
type Locations struct {
	// Files are the files named as they were given: relative paths stay
	// relative to where purser ran, and the files of a directory keep the
	// directory as the user named it in front ("manifests/web.yaml").
	Files []string `json:"files"`
	// Objects are in canonical order (kind, namespace, name); each names
	// its file by index into Files, which keeps a dump of thousands of
	// objects from one file small.
	Objects []ObjectLocation `json:"objects"`
}

// ObjectLocation is where one object was read.
type ObjectLocation struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	File      int    `json:"file"`
	// Line is where the object's document starts; for an item of a List
	// the line of the List, as the loader does not see inside it.
	Line int `json:"line"`
}

// SourceLocation is a file and the line of an object in it.
type SourceLocation struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// locationRecorder collects the locations of one load.
type locationRecorder struct {
	files   []string
	fileIdx map[string]int
	objects []ObjectLocation
}

// record notes that the object kind ns/name starts at file:line. Objects
// read from stdin ("<stdin>") have no file anyone could open: they are
// not recorded.
func (r *locationRecorder) record(file string, line int, kind, ns, name string) {
	if file == "" || strings.HasPrefix(file, "<") {
		return
	}
	i, ok := r.fileIdx[file]
	if !ok {
		if r.fileIdx == nil {
			r.fileIdx = map[string]int{}
		}
		i = len(r.files)
		r.fileIdx[file] = i
		r.files = append(r.files, file)
	}
	r.objects = append(r.objects, ObjectLocation{Kind: kind, Namespace: ns, Name: name, File: i, Line: line})
}

// locations returns what was recorded in canonical order, nil when
// nothing was.
func (r *locationRecorder) locations() *Locations {
	if len(r.objects) == 0 {
		return nil
	}
	objs := slices.Clone(r.objects)
	slices.SortStableFunc(objs, func(a, b ObjectLocation) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return &Locations{Files: slices.Clone(r.files), Objects: objs}
}

// Location returns where the object r was read from, when it came from a
// file. Two objects of one kind name in different API groups share a
// Ref; the first one read keeps the location.
func (ix *Index) Location(r Ref) (SourceLocation, bool) {
	ix.locationsOnce.Do(ix.buildLocations)
	l, ok := ix.locations[r]
	return l, ok
}

func (ix *Index) buildLocations() {
	locs := ix.S.Meta.Locations
	if locs == nil {
		return
	}
	ix.locations = make(map[Ref]SourceLocation, len(locs.Objects))
	for _, o := range locs.Objects {
		// A saved snapshot is input too: an index out of range is
		// skipped, never trusted.
		if o.File < 0 || o.File >= len(locs.Files) {
			continue
		}
		r := Ref{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
		if _, dup := ix.locations[r]; !dup {
			ix.locations[r] = SourceLocation{File: locs.Files[o.File], Line: o.Line}
		}
	}
}

// Workload returns the object at the top of r's controller chain (a Pod's
// Deployment through its ReplicaSet, a Job's CronJob), as TopOwner does
// for an object in hand; r itself when the snapshot does not hold it or
// it has no controller. Unlike a pod's name, the workload stays the same
// across rollouts.
func (ix *Index) Workload(r Ref) Ref {
	o := ix.Object(r)
	if o == nil {
		return r
	}
	return ix.TopOwner(r.Kind, o)
}

// Object returns the modelled object r, nil when the snapshot does not
// hold it: reports read its labels and annotations (where a GitOps tool
// says it came from).
func (ix *Index) Object(r Ref) metav1.Object {
	ix.objectsOnce.Do(ix.buildObjects)
	return ix.objects[r]
}

func (ix *Index) buildObjects() {
	ix.objects = map[Ref]metav1.Object{}
	for _, k := range kinds() {
		k.each(ix.S, func(o metav1.Object) {
			r := Ref{Kind: k.Kind, Namespace: o.GetNamespace(), Name: o.GetName()}
			if _, dup := ix.objects[r]; !dup {
				ix.objects[r] = o
			}
		})
	}
}

// yamlListItemLines finds, in a YAML document that is a List as kubectl
// writes one ("items:" at the margin, each item a "- " entry under it),
// the line of each item, counted from the document's first line (1).
// The loader converts YAML to JSON before it sees the items, so it reads
// their lines from the text; nil when the document is not laid out so
// (flow style, say), and the caller then keeps the List's line.
func yamlListItemLines(doc []byte) []int {
	var out []int
	in, indent, n := false, -1, 0
	for line := range bytes.Lines(doc) {
		n++
		line = bytes.TrimRight(line, "\r\n")
		if !in {
			if bytes.Equal(bytes.TrimRight(line, " \t"), []byte("items:")) {
				in = true
			}
			continue
		}
		body := bytes.TrimLeft(line, " ")
		if len(bytes.TrimSpace(body)) == 0 || body[0] == '#' {
			continue
		}
		depth := len(line) - len(body)
		isItem := body[0] == '-' && (len(body) == 1 || body[1] == ' ')
		switch {
		case isItem && (indent < 0 || depth == indent):
			indent = depth
			out = append(out, n)
		case depth == 0 && !isItem:
			// The next key of the List: the items are over.
			in = false
		}
	}
	return out
}

// jsonListItemOffsets returns the offset within raw of each element of a
// JSON array, or of the "items" array of a JSON object; nil when raw is
// neither. raw has already been decoded, so it is valid JSON: a scan of
// its bytes finds the elements without decoding them again, which would
// copy every item of a large List once more.
func jsonListItemOffsets(raw []byte) []int64 {
	i := skipJSONSpace(raw, 0)
	if i >= len(raw) {
		return nil
	}
	if raw[i] == '[' {
		return jsonArrayOffsets(raw, i)
	}
	if raw[i] != '{' {
		return nil
	}
	depth := 0
	for j := i; j < len(raw); j++ {
		switch raw[j] {
		case '"':
			end := jsonStringEnd(raw, j)
			if depth == 1 && string(raw[j+1:min(end, len(raw))]) == "items" {
				if k := skipJSONSpace(raw, end+1); k < len(raw) && raw[k] == ':' {
					if k = skipJSONSpace(raw, k+1); k < len(raw) && raw[k] == '[' {
						return jsonArrayOffsets(raw, k)
					}
					return nil
				}
			}
			j = end
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
	}
	return nil
}

// jsonArrayOffsets returns where each element of the array opening at
// raw[open] starts.
func jsonArrayOffsets(raw []byte, open int) []int64 {
	var out []int64
	depth, expect := 0, true
	for j := open; j < len(raw); j++ {
		c := raw[j]
		if depth == 1 && expect && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != ']' {
			out = append(out, int64(j))
			expect = false
		}
		switch c {
		case '"':
			j = jsonStringEnd(raw, j)
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return out
			}
		case ',':
			if depth == 1 {
				expect = true
			}
		}
	}
	return nil
}

// jsonStringEnd returns the index of the quote that closes the string
// opening at raw[open], len(raw) when there is none.
func jsonStringEnd(raw []byte, open int) int {
	for k := open + 1; k < len(raw); k++ {
		switch raw[k] {
		case '\\':
			k++
		case '"':
			return k
		}
	}
	return len(raw)
}

func skipJSONSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// listItemLines turns the offsets of a JSON value's items, relative to
// the value that starts at off in data on line startLine, into lines,
// counting the line breaks between one item and the next only once.
func listItemLines(data []byte, off int64, startLine int, items []int64) []int {
	out := make([]int, len(items))
	line, prev := startLine, off
	for i, o := range items {
		cur := off + o
		if cur < prev || cur > int64(len(data)) {
			return nil
		}
		line += bytes.Count(data[prev:cur], []byte("\n"))
		out[i], prev = line, cur
	}
	return out
}
