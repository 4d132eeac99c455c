package sqlstore

// HoldGroups stops s from starting group transactions, so that a test can
// queue writes and have them committed as one group: writes wait until
// release, which runs the queued groups (at most maxGroupWrites a group).
func HoldGroups(s *Store) (queued func() int, release func()) {
	s.group.mu.Lock()
	s.group.leading = true
	s.group.mu.Unlock()
	queued = func() int {
		s.group.mu.Lock()
		defer s.group.mu.Unlock()
		return len(s.group.queue)
	}
	return queued, s.runGroups
}

// SetSnapshotPartRows makes s read a snapshot in parts of about n
// parameters (as many parts as CPUs, at most four).
func SetSnapshotPartRows(s *Store, n int) { s.snapshotPartRows = n }

// SetSnapshotScan makes s read a snapshot's latest versions by scanning
// every version (1), through the join (-1), or as the store's size says
// (0).
func SetSnapshotScan(s *Store, way int) { s.snapshotScan = way }
