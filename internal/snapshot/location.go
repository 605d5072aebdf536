package snapshot

import (
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
// for an object in hand; r itself when it has no controller. Unlike a
// pod's name, the workload stays the same across rollouts.
func (ix *Index) Workload(r Ref) Ref {
	uid, ok := ix.uidByRef[r]
	if !ok {
		return r
	}
	cur := r
	for i := 0; i < 8; i++ { // the bound guards against cycles
		c, ok := ix.ownerOf[uid]
		if !ok {
			break
		}
		next, ok := ix.byUID[c.UID]
		if !ok {
			// An owner missing from the snapshot ends the chain under
			// its own name.
			return Ref{Kind: c.Kind, Namespace: cur.Namespace, Name: c.Name}
		}
		cur, uid = next, c.UID
	}
	return cur
}

// Annotations returns the annotations of the modelled object r, nil when
// the snapshot does not hold it.
func (ix *Index) Annotations(r Ref) map[string]string {
	ix.objectsOnce.Do(ix.buildObjects)
	return ix.annotations[r]
}

func (ix *Index) buildObjects() {
	ix.annotations = map[Ref]map[string]string{}
	for _, k := range kinds() {
		k.each(ix.S, func(o metav1.Object) {
			if a := o.GetAnnotations(); len(a) > 0 {
				ix.annotations[Ref{Kind: k.Kind, Namespace: o.GetNamespace(), Name: o.GetName()}] = a
			}
		})
	}
}
