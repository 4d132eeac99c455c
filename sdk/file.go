package sdk

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/vanehq/vane"
)

// snapshotFileFormat is the version of the snapshot file's layout.
const snapshotFileFormat = 1

// snapshotFile is the layout of Config.SnapshotFile.
type snapshotFile struct {
	Format     int              `json:"format"`
	Server     string           `json:"server"`
	Paths      []string         `json:"paths"`
	Decrypted  bool             `json:"decrypted"`
	Sequence   int64            `json:"sequence"`
	Saved      time.Time        `json:"saved"`
	Parameters []*parameterJSON `json:"parameters"`
}

// scheduleSave saves the snapshot file after DefaultSaveDelay, so a burst
// of changes costs one write.
func (c *Client) scheduleSave() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.saveTimer != nil {
		return
	}
	c.saveTimer = time.AfterFunc(DefaultSaveDelay, func() {
		c.mu.Lock()
		c.saveTimer = nil
		c.mu.Unlock()
		if err := c.saveFile(); err != nil {
			c.report(err)
		}
	})
}

// saveFile writes the current state to Config.SnapshotFile atomically
// (a temporary file, fsync, rename), readable by the owner only.
func (c *Client) saveFile() error {
	st := c.state.Load()
	if st == nil || st.fromFile {
		return nil
	}
	f := snapshotFile{
		Format: snapshotFileFormat, Server: c.cfg.Server, Paths: c.paths, Decrypted: c.cfg.Decrypt,
		Sequence: st.seq, Saved: st.synced.UTC(), Parameters: make([]*parameterJSON, 0, len(st.m)),
	}
	for _, e := range st.m {
		f.Parameters = append(f.Parameters, &parameterJSON{Name: e.name, Type: string(e.typ), Value: e.value, Version: e.version})
	}
	slices.SortFunc(f.Parameters, func(a, b *parameterJSON) int {
		if a.Name < b.Name {
			return -1
		}
		return 1
	})
	b, err := json.Marshal(&f)
	if err != nil {
		return fmt.Errorf("sdk: encode the snapshot file: %w", err)
	}
	path := c.cfg.SnapshotFile
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("sdk: save the snapshot file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path) // CreateTemp made it 0600
	}
	if err != nil {
		return fmt.Errorf("sdk: save the snapshot file: %w", err)
	}
	return nil
}

// loadFile publishes the snapshot file's values, if there is a usable
// file; it reports why a file present is not used.
func (c *Client) loadFile() bool {
	if c.cfg.SnapshotFile == "" {
		return false
	}
	b, err := os.ReadFile(c.cfg.SnapshotFile)
	if os.IsNotExist(err) {
		return false
	}
	if err != nil {
		c.report(fmt.Errorf("sdk: read the snapshot file: %w", err))
		return false
	}
	var f snapshotFile
	if err := json.Unmarshal(b, &f); err != nil {
		c.report(fmt.Errorf("sdk: the snapshot file %s does not decode: %w", c.cfg.SnapshotFile, err))
		return false
	}
	if f.Format != snapshotFileFormat || !slices.Equal(f.Paths, c.paths) || f.Decrypted != c.cfg.Decrypt {
		c.report(fmt.Errorf("sdk: the snapshot file %s was saved for other paths or settings (%v); not used", c.cfg.SnapshotFile, f.Paths))
		return false
	}
	st := &state{seq: f.Sequence, m: make(map[string]*entry, len(f.Parameters)), fromFile: true, synced: f.Saved}
	for _, p := range f.Parameters {
		e := c.newEntry(p)
		e.sealed = e.sealed || (e.typ == vane.TypeSecureString && !f.Decrypted)
		st.m[p.Name] = e
	}
	c.publish(st, nil)
	c.setStatus(func(s *Status) { s.LastSync = f.Saved })
	c.log.Info("vane sdk: serving the snapshot file until the server answers",
		"file", c.cfg.SnapshotFile, "sequence", f.Sequence, "saved", f.Saved)
	return true
}
