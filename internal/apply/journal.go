package apply

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// JournalFile and BackupFile are the names of the journal and the backup in
// an operation's directory.
const (
	JournalFile = "journal.jsonl"
	BackupFile  = "backup.yaml"
)

// journalVersion is the format of the journal's records.
const journalVersion = "purser.dev/v1alpha1"

// Record types, in the order a run writes them.
const (
	// RecordBegin opens the journal: the operation, the plan, the backup.
	RecordBegin = "begin"
	// RecordIntent is written, and synced, before a step writes anything.
	RecordIntent = "intent"
	// RecordDone is written once the step's change is complete, with the
	// object as it is after (gone, for a deletion).
	RecordDone = "done"
	// RecordBlocked: the step found the cluster other than the plan
	// expects and changed nothing; the run stopped there.
	RecordBlocked = "blocked"
	// RecordProgress marks a stage of a step of several writes (a
	// rebind): what was reached, so that a person reading the journal
	// after a crash sees where the volume stands.
	RecordProgress = "progress"
	// RecordEnd: every step is done.
	RecordEnd = "end"
	// RecordRestoreIntent and RecordRestoreDone are written by a rollback,
	// around the restoring of the object of a step.
	RecordRestoreIntent = "restore-intent"
	RecordRestoreDone   = "restore-done"
)

// Record is one line of the journal.
type Record struct {
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	// Begin only.
	Version   string `json:"version,omitempty"`
	Operation string `json:"operation,omitempty"`
	Plan      string `json:"plan,omitempty"`
	Source    string `json:"source,omitempty"`
	Backup    string `json:"backup,omitempty"`
	Steps     int    `json:"steps,omitempty"`
	// The step a record is about, and its object as the plan recorded it.
	Step   int     `json:"step,omitempty"`
	Change Change  `json:"change,omitempty"`
	Object *Object `json:"object,omitempty"`
	// From and Volume are the source object of a copy or a rebind and
	// the volume a rebind hands over: a rollback reads them here, since
	// it has the journal and the backup, not the plan.
	From   *Object `json:"from,omitempty"`
	Volume *Object `json:"volume,omitempty"`
	// Stage names what a progress record reached.
	Stage string `json:"stage,omitempty"`
	// After is the object once the step is done.
	After *After `json:"after,omitempty"`
	// Reason says why a step was blocked.
	Reason string `json:"reason,omitempty"`
}

// After is an object's state once a step is done: gone, or its new UID and
// resourceVersion.
type After struct {
	Gone            bool   `json:"gone,omitempty"`
	UID             string `json:"uid,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
}

// journal appends records to the journal file, each synced to the disk
// before the step it announces runs: after a crash, the journal says at
// least what was attempted.
type journal struct {
	// mu orders the records of steps that run at once (namespace
	// deletions): each record is one whole line.
	mu   sync.Mutex
	f    *os.File
	path string
	now  func() time.Time
}

// createJournal creates the journal in dir, which must not have one.
func createJournal(dir string, now func() time.Time) (*journal, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening backup directory %s: %w", dir, err)
	}
	defer root.Close()
	f, err := root.OpenFile(JournalFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating journal in %s: %w", dir, err)
	}
	return &journal{f: f, path: filepath.Join(dir, JournalFile), now: now}, nil
}

// appendJournal opens an existing journal to add to it.
func appendJournal(path string, now func() time.Time) (*journal, error) {
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("opening journal %s: %w", path, err)
	}
	defer root.Close()
	f, err := root.OpenFile(filepath.Base(path), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("opening journal %s: %w", path, err)
	}
	return &journal{f: f, path: path, now: now}, nil
}

// add writes one record and syncs it.
func (j *journal) add(r Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	r.Time = j.now().UTC()
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("syncing journal %s: %w", j.path, err)
	}
	return nil
}

func (j *journal) close() error {
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("closing journal %s: %w", j.path, err)
	}
	return nil
}

// Journal is a journal read back.
type Journal struct {
	Path    string
	Begin   Record
	Records []Record
	// Torn is set when the last line was cut short by a crash: it is
	// ignored, since a record is only trusted once whole.
	Torn bool
}

// ReadJournal reads a journal file: a begin record first, then whole
// lines of JSON. A last line without its newline was being written when
// the process died and is ignored; anything else malformed is an error
// naming the line.
func ReadJournal(path string) (*Journal, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading journal: %w", err)
	}
	j := &Journal{Path: path}
	r := bufio.NewReader(bytes.NewReader(data))
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(bytes.TrimSpace(line)) > 0 {
				j.Torn = true
			}
			break
		}
		var rec Record
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if n == 1 {
			if rec.Type != RecordBegin || rec.Version != journalVersion {
				return nil, fmt.Errorf("%s:1: not a purser journal (%s %s, want a %s record of %s)", path, rec.Type, rec.Version, RecordBegin, journalVersion)
			}
			j.Begin = rec
			continue
		}
		j.Records = append(j.Records, rec)
	}
	if j.Begin.Type == "" {
		return nil, fmt.Errorf("%s: empty, not a purser journal", path)
	}
	return j, nil
}

// stepState is what the journal says of one step.
type stepState struct {
	intent, done, blocked, restored bool
	after                           *After
}

// states sums the journal up per step index.
func (j *Journal) states() map[int]*stepState {
	out := map[int]*stepState{}
	for _, r := range j.Records {
		if r.Step == 0 {
			continue
		}
		s := out[r.Step]
		if s == nil {
			s = &stepState{}
			out[r.Step] = s
		}
		switch r.Type {
		case RecordIntent:
			s.intent, s.blocked = true, false
		case RecordDone:
			s.done, s.after = true, r.After
		case RecordBlocked:
			s.blocked = true
		case RecordRestoreDone:
			s.restored = true
		}
	}
	return out
}

// rolledBack tells whether a rollback has started on the journal.
func (j *Journal) rolledBack() bool {
	for _, r := range j.Records {
		if r.Type == RecordRestoreIntent || r.Type == RecordRestoreDone {
			return true
		}
	}
	return false
}
