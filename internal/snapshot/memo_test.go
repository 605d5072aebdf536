package snapshot

import (
	"sync"
	"sync/atomic"
	"testing"
)

type memoKey struct{ name string }

// TestMemo: each key is built once per index, even when asked at the same
// time, keys do not share values, a build may ask for another key, and
// another index builds its own.
func TestMemo(t *testing.T) {
	t.Parallel()
	ix := NewIndex(&Snapshot{})
	var builds atomic.Int32
	build := func() any { builds.Add(1); return []string{"a"} }
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got := ix.Memo(memoKey{"owners"}, build).([]string); len(got) != 1 || got[0] != "a" {
				t.Errorf("got %v", got)
			}
		})
	}
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("built %d times, want once", n)
	}
	nested := ix.Memo(memoKey{"outer"}, func() any { return ix.Memo(memoKey{"inner"}, func() any { return 2 }).(int) + 1 })
	if nested != 3 {
		t.Errorf("nested build: got %v, want 3", nested)
	}
	if got := ix.Memo(memoKey{"other"}, func() any { return "b" }); got != "b" {
		t.Errorf("another key: got %v", got)
	}
	NewIndex(&Snapshot{}).Memo(memoKey{"owners"}, build)
	if n := builds.Load(); n != 2 {
		t.Errorf("another index: %d builds, want 2", n)
	}
}
