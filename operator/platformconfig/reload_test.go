package platformconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func registryWithImage(image string) string {
	return fmt.Sprintf(`[{"id": "claude-agent-sdk", "container": {"image": %q}}]`, image)
}

// writeReplacing swaps in a new file by rename, as editors and most tools do.
func writeReplacing(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(content), 0o644))
	require.NoError(t, os.Rename(tmp, path))
}

// kubeletVolume lays a ConfigMap out the way kubelet's atomic writer does:
// <dir>/..<timestamp>/<key>, <dir>/..data -> ..<timestamp>, <dir>/<key> -> ..data/<key>.
type kubeletVolume struct {
	t       *testing.T
	dir     string
	key     string
	version int
}

func newKubeletVolume(t *testing.T, key, content string) *kubeletVolume {
	v := &kubeletVolume{t: t, dir: t.TempDir(), key: key}
	v.update(content)
	require.NoError(t, os.Symlink(filepath.Join("..data", key), filepath.Join(v.dir, key)))
	return v
}

func (v *kubeletVolume) path() string { return filepath.Join(v.dir, v.key) }

// update writes content into a new timestamped directory, swaps ..data to it
// by renaming a new symlink over the old one, and removes the old directory.
func (v *kubeletVolume) update(content string) {
	t := v.t
	old := fmt.Sprintf("..version_%d", v.version)
	v.version++
	current := fmt.Sprintf("..version_%d", v.version)
	require.NoError(t, os.Mkdir(filepath.Join(v.dir, current), 0o755))
	file := filepath.Join(v.dir, current, v.key)
	require.NoError(t, os.WriteFile(file, []byte(content), 0o644))
	// Same size and modification time as the old version: only the file's
	// identity tells them apart.
	fixed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, os.Chtimes(file, fixed, fixed))

	tmpLink := filepath.Join(v.dir, "..data_tmp")
	require.NoError(t, os.Symlink(current, tmpLink))
	require.NoError(t, os.Rename(tmpLink, filepath.Join(v.dir, "..data")))
	require.NoError(t, os.RemoveAll(filepath.Join(v.dir, old)))
}

func TestRegistryReloadsReplacedFile(t *testing.T) {
	log, lines := newTestLogger(t)
	path := filepath.Join(t.TempDir(), "agent-registry.json")
	require.NoError(t, os.WriteFile(path, []byte(registryWithImage("runner:v1")), 0o644))
	registry := NewRegistry(path, testImages, log)
	assert.Equal(t, "runner:v1", registry.Lookup("").Image)

	writeReplacing(t, path, registryWithImage("runner:v2"))
	assert.Equal(t, "runner:v2", registry.Lookup("").Image)
	assert.Equal(t, "runner:v2", registry.Lookup("").Image)
	assert.Len(t, lines.containing("loaded agent registry"), 2, "one load per version")
}

func TestRegistryReloadsInPlaceRewrite(t *testing.T) {
	log, _ := newTestLogger(t)
	path := filepath.Join(t.TempDir(), "agent-registry.json")
	require.NoError(t, os.WriteFile(path, []byte(registryWithImage("runner:v1")), 0o644))
	registry := NewRegistry(path, testImages, log)
	assert.Equal(t, "runner:v1", registry.Lookup("").Image)

	// Same inode; the size differs.
	require.NoError(t, os.WriteFile(path, []byte(registryWithImage("runner:v10")), 0o644))
	assert.Equal(t, "runner:v10", registry.Lookup("").Image)

	// Same inode and size; the modification time differs.
	require.NoError(t, os.WriteFile(path, []byte(registryWithImage("runner:v11")), 0o644))
	later := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(path, later, later))
	assert.Equal(t, "runner:v11", registry.Lookup("").Image)
}

func TestRegistryFollowsKubeletSymlinkSwap(t *testing.T) {
	log, lines := newTestLogger(t)
	volume := newKubeletVolume(t, "agent-registry.json", registryWithImage("runner:v1"))
	registry := NewRegistry(volume.path(), testImages, log)
	assert.Equal(t, "runner:v1", registry.Lookup("").Image)

	volume.update(registryWithImage("runner:v2"))
	assert.Equal(t, "runner:v2", registry.Lookup("").Image)

	volume.update(registryWithImage("runner:v3"))
	assert.Equal(t, "runner:v3", registry.Lookup("claude-agent-sdk").Image)
	assert.Len(t, lines.containing("loaded agent registry", `"entries"=1`), 3)
}

func TestRegistryKeepsLastGoodCopy(t *testing.T) {
	log, lines := newTestLogger(t)
	volume := newKubeletVolume(t, "agent-registry.json", registryWithImage("runner:good"))
	registry := NewRegistry(volume.path(), testImages, log)
	require.Equal(t, "runner:good", registry.Lookup("").Image)

	volume.update(`[{"id": "claude-agent-sdk", "container": {"image": `)
	for range 5 {
		assert.Equal(t, "runner:good", registry.Lookup("").Image)
	}
	malformed := lines.containing("agent registry file malformed, using last good copy", `"path"="`+volume.path()+`"`, `"error"=`)
	assert.Len(t, malformed, 1, "logged once per change, not per lookup: %v", lines.all())

	// Fixed: the new version loads; broken again: one more line.
	volume.update(registryWithImage("runner:fixed"))
	assert.Equal(t, "runner:fixed", registry.Lookup("").Image)
	volume.update(`not json`)
	assert.Equal(t, "runner:fixed", registry.Lookup("").Image)
	assert.Equal(t, "runner:fixed", registry.Lookup("").Image)
	assert.Len(t, lines.containing("malformed, using last good copy"), 2)

	// The file disappears (ConfigMap deleted): still the last good copy, one line.
	require.NoError(t, os.Remove(volume.path()))
	for range 3 {
		assert.Equal(t, "runner:fixed", registry.Lookup("").Image)
	}
	assert.Len(t, lines.containing("agent registry file not found, using last good copy", `"path"="`+volume.path()+`"`), 1)
}

func TestRegistryUnreadableFileKeepsLastGoodCopy(t *testing.T) {
	log, lines := newTestLogger(t)
	path := filepath.Join(t.TempDir(), "agent-registry.json")
	require.NoError(t, os.WriteFile(path, []byte(registryWithImage("runner:good")), 0o644))
	registry := NewRegistry(path, testImages, log)
	require.Equal(t, "runner:good", registry.Lookup("").Image)

	// A directory stats fine but cannot be read as a file, even by root.
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.Mkdir(path, 0o755))
	for range 3 {
		assert.Equal(t, "runner:good", registry.Lookup("").Image)
	}
	assert.Len(t, lines.containing("agent registry file unreadable, using last good copy", `"path"="`+path+`"`, "is a directory"), 1)

	require.NoError(t, os.Remove(path))
	require.NoError(t, os.WriteFile(path, []byte(registryWithImage("runner:back")), 0o644))
	assert.Equal(t, "runner:back", registry.Lookup("").Image)
}

func TestRegistryLogLineShape(t *testing.T) {
	log, lines := newTestLogger(t)
	volume := newKubeletVolume(t, "agent-registry.json", registryWithImage("runner:good"))
	registry := NewRegistry(volume.path(), testImages, log)
	volume.update(`[`)
	registry.Lookup("")
	got := lines.containing("malformed")
	require.Len(t, got, 1)
	t.Log(got[0])
	assert.Contains(t, got[0], `"msg"="agent registry file malformed, using last good copy"`)
	assert.Contains(t, got[0], `"error"="parsing `+volume.path())
}

// Lookups from parallel reconciles while kubelet swaps the file.
func TestRegistryConcurrentLookupsDuringUpdates(t *testing.T) {
	log, _ := newTestLogger(t)
	volume := newKubeletVolume(t, "agent-registry.json", registryWithImage("runner:v0"))
	registry := NewRegistry(volume.path(), testImages, log)

	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 200 {
				rt := registry.Lookup("")
				rt.Env = append(rt.Env, rt.Env...) // callers own their copy
				assert.Contains(t, rt.Image, "runner:v")
			}
		}()
	}
	// Sizes differ: versions written within one timestamp tick, with inodes
	// reused, are otherwise indistinguishable (as they are to kubelet's readers).
	for i := 1; i <= 9; i++ {
		volume.update(registryWithImage("runner:v" + strings.Repeat("x", i)))
	}
	for range 4 {
		<-done
	}
	assert.Equal(t, "runner:vxxxxxxxxx", registry.Lookup("").Image)
}
