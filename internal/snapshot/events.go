package snapshot

import (
	"fmt"
	"time"
)

// ListEventType says what happened to one kind's LIST during a live
// collection.
type ListEventType int

const (
	// ListStarted: the first page is being requested.
	ListStarted ListEventType = iota + 1
	// ListPage: a page arrived; Items counts the objects read so far.
	ListPage
	// ListDone: the last page arrived; Items is the kind's count.
	ListDone
	// ListUnreadable: the kind may not be listed or is not served, so it
	// is unknown, not empty; Reason says which.
	ListUnreadable
)

func (t ListEventType) String() string {
	switch t {
	case ListStarted:
		return "started"
	case ListPage:
		return "page"
	case ListDone:
		return "done"
	case ListUnreadable:
		return "unreadable"
	}
	return fmt.Sprintf("ListEventType(%d)", int(t))
}

// ListEvent reports the progress of one LIST of a live collection, for a
// terminal's progress bar or a server's metrics. The type lives with the
// model rather than with the collector so that its consumers do not link
// an API client.
type ListEvent struct {
	Type          ListEventType
	GroupResource string // "deployments.apps"
	Items         int    // objects read so far by this list
	// Done and Total count the lists of the whole collection: finished
	// ones (done or unreadable), and all of them.
	Done, Total int
	Elapsed     time.Duration // since this list started
	Reason      string        // why a kind is unreadable
}

// ListEventSink receives the events of a collection one at a time, in
// order: for each kind ListStarted, any ListPage, then ListDone or
// ListUnreadable. It runs while the collection waits, so it must be quick.
type ListEventSink func(ListEvent)
