package platformconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/go-logr/logr"
)

// watchedFile is a file mounted from a ConfigMap, parsed into T and re-parsed
// only when it changes. Kubelet updates such a file by writing a new directory
// and swapping the ..data symlink; os.Stat follows the link, so a new version
// shows up as a different file identity, and in-place rewrites as a different
// modification time or size. A stat per use is far cheaper than re-reading and
// still sees every update on the next use. (Only a same-size file written in
// the same timestamp tick into a reused inode would go unnoticed; kubelet's
// updates are seconds apart.)
//
// When the file becomes missing, unreadable or malformed, the last good value
// stays in use; without one the caller applies its defaults. Each change of
// that state is logged once, not on every use.
type watchedFile[T any] struct {
	path  string
	what  string // names the file in log lines, e.g. "agent registry"
	parse func([]byte) (T, error)
	count func(T) int // entries reported when a version loads
	log   logr.Logger

	mu       sync.Mutex
	seen     os.FileInfo // the version last read and parsed; nil forces a read
	value    T
	haveGood bool
	state    string // the condition last logged
}

func newWatchedFile[T any](path, what string, parse func([]byte) (T, error), count func(T) int, log logr.Logger) *watchedFile[T] {
	f := &watchedFile[T]{path: path, what: what, parse: parse, count: count, log: log}
	f.get() // reports the file's state at start-up rather than at first use
	return f
}

// get returns the current value and whether any version was ever parsed.
// Callers must not modify the value: it is shared.
func (f *watchedFile[T]) get() (T, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()

	info, err := os.Stat(f.path)
	if err != nil {
		f.seen = nil
		if errors.Is(err, fs.ErrNotExist) {
			f.report("not found", err)
		} else {
			f.report("unreadable", err)
		}
		return f.value, f.haveGood
	}
	if f.seen != nil && sameVersion(f.seen, info) {
		return f.value, f.haveGood
	}

	data, err := os.ReadFile(f.path)
	if err != nil {
		f.seen = nil // a read error may be transient: try again next use
		f.report("unreadable", err)
		return f.value, f.haveGood
	}
	// Remember the version even if it does not parse, so a malformed file is
	// parsed (and reported) once, not on every use. If it changed while being
	// read, the data may be newer than info: forget it and read again next use.
	if after, err := os.Stat(f.path); err == nil && sameVersion(info, after) {
		f.seen = info
	} else {
		f.seen = nil
	}
	value, err := f.parse(data)
	if err != nil {
		f.report("malformed", fmt.Errorf("parsing %s: %w", f.path, err))
		return f.value, f.haveGood
	}
	f.value, f.haveGood, f.state = value, true, ""
	f.log.Info("loaded "+f.what, "path", f.path, "entries", f.count(value))
	return f.value, f.haveGood
}

// report logs one line when the file's condition changes.
func (f *watchedFile[T]) report(condition string, err error) {
	state := condition + ": " + err.Error()
	if state == f.state {
		return
	}
	f.state = state
	fallback := "using defaults"
	if f.haveGood {
		fallback = "using last good copy"
	}
	msg := fmt.Sprintf("%s file %s, %s", f.what, condition, fallback)
	if condition == "not found" && !f.haveGood {
		// An optional ConfigMap that is absent is a normal configuration.
		f.log.Info(msg, "path", f.path, "error", err.Error())
		return
	}
	f.log.Error(err, msg, "path", f.path)
}

func sameVersion(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}
