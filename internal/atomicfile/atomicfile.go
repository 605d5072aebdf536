// Package atomicfile writes files so that readers and crashed writers never
// see half of one: the content goes to a temporary file beside the target,
// which is renamed into place only once complete.
package atomicfile

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Modes for Write's perm, before the umask.
const (
	// Public is for reports and review documents: 0666 less the umask,
	// as a shell redirection would create them.
	Public fs.FileMode = 0o666
	// Private is for files that may hold what the cluster's owners
	// guard (a saved snapshot carries literal environment values and
	// ConfigMap data): the owner only, whatever the umask.
	Private fs.FileMode = 0o600
)

// Write writes a file through fill and renames it into place, so that a
// failure never leaves a partial file at path.
//
// A new file gets perm less the process umask, applied by the kernel when
// the temporary file is created: Purser never widens what the user's
// umask allows. A file that exists keeps its own permission bits (a
// snapshot the user made 0640 for a group stays so), since replacing it
// is an edit, not a new file.
//
// ctx is checked before anything is created and again before the rename:
// a run interrupted while fill works leaves the previous file byte for
// byte and no temporary file.
func Write(ctx context.Context, path string, perm fs.FileMode, fill func(io.Writer) error) (err error) {
	if err := ctx.Err(); err != nil {
		return fail(path, err)
	}
	keep, err := existingMode(path)
	if err != nil {
		return fail(path, err)
	}
	f, err := createTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-", perm)
	if err != nil {
		return fail(path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriter(f)
	if err = fill(bw); err != nil {
		return fail(path, err)
	}
	if err = bw.Flush(); err != nil {
		return fail(path, err)
	}
	if keep != nil {
		if err = f.Chmod(*keep); err != nil {
			return fail(path, err)
		}
	}
	if err = f.Sync(); err != nil {
		return fail(path, err)
	}
	if err = f.Close(); err != nil {
		return fail(path, err)
	}
	if err = ctx.Err(); err != nil {
		return fail(path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fail(path, err)
	}
	// The rename is durable only once the directory is: a crash right
	// after a successful Write must not bring the previous file back.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fail(path, err)
		}
	}
	return nil
}

// fail names path once: an error from a file system call names the
// temporary file, which the user never asked for and which is gone.
func fail(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("writing %s: %w", path, err)
}

// existingMode returns the permission bits of the regular file at path,
// nil when there is none. Anything else at path (a directory, a device)
// is an error: renaming over it would replace what was not a file.
func existingMode(path string) (*fs.FileMode, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	m := fi.Mode().Perm()
	return &m, nil
}

// createTemp is os.CreateTemp with a mode: os.CreateTemp always creates
// 0600, and widening that afterwards would need the umask, which a
// process can only read by changing it.
func createTemp(dir, prefix string, perm fs.FileMode) (*os.File, error) {
	for range 100 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		name := filepath.Join(dir, prefix+hex.EncodeToString(b[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("no free temporary name in %s", dir)
}
