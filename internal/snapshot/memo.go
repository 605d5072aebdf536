package snapshot

import "sync"

type derivedValue struct {
	once sync.Once
	v    any
}

// Memo returns what build derives from the snapshot, computing it once
// per Index however many callers ask, at the same time or not. An engine
// whose parts each walk the same derived view (every audit check that
// lists pod-template owners) keeps it here instead of rebuilding it per
// part: at 10,000 pods the rebuilds were about 40% of an audit. key is a
// value of a type unexported by the caller's package, so that packages
// cannot collide; the value is shared and must be treated as read-only.
func (ix *Index) Memo(key any, build func() any) any {
	ix.derivedMu.Lock()
	if ix.derived == nil {
		ix.derived = map[any]*derivedValue{}
	}
	d := ix.derived[key]
	if d == nil {
		d = &derivedValue{}
		ix.derived[key] = d
	}
	ix.derivedMu.Unlock()
	// Built outside the lock: a build may itself ask for another key.
	d.once.Do(func() { d.v = build() })
	return d.v
}
