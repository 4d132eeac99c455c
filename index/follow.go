package index

import (
	"context"
	"time"
)

// DefaultFollowInterval is how often Follow catches up without a wake-up,
// bounding how long a lost notification goes unnoticed.
const DefaultFollowInterval = 2 * time.Second

// Follow keeps the index current with changes other writers commit to the
// wrapped store (other nodes on a shared database). It calls CatchUp on
// every value received from wake (send one per change notification, and
// one after the notification channel reconnects) and every interval, until
// ctx is done. Wake-ups that arrive during a catch-up are coalesced into
// the next one. Failures are logged and retried on the next wake-up or tick,
// so the index keeps serving its last state during a database outage.
func (s *Store) Follow(ctx context.Context, wake <-chan struct{}, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultFollowInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
		err := s.CatchUp(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			failing = true
			s.Logger.WarnContext(ctx, "index: cannot follow the change log; serving the last known state", "err", err)
		case err == nil && failing:
			failing = false
			s.Logger.InfoContext(ctx, "index: following the change log again", "sequence", s.Seq())
		}
	}
}
