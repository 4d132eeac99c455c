package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen timing.
const (
	// listenMinBackoff and listenMaxBackoff bound the wait before a
	// reconnection: it doubles after each failed attempt, with jitter.
	listenMinBackoff = 100 * time.Millisecond
	listenMaxBackoff = 5 * time.Second
	// listenPingTimeout bounds the ping of an idle connection.
	listenPingTimeout = 5 * time.Second
	// listenCloseTimeout bounds the goodbye to a server on disconnection.
	listenCloseTimeout = time.Second
)

// Listen follows the writes of every node sharing the store's schema: it
// holds one connection of its own, outside the pools, that LISTENs on
// Channel, and calls notify for each notification of the schema and right
// after every connection and reconnection, since writes may have been
// committed while nothing listened. It blocks until ctx is done and then
// returns ctx.Err().
//
// After ListenIdleCheck without a notification, Listen pings the server
// to make sure the connection still works. When the connection fails or is
// lost, Listen logs it and reconnects, waiting 100 ms at first and twice as
// long after each failed attempt, up to 5 s, each wait shortened by up to
// half at random so that nodes don't reconnect in step.
//
// notify runs on Listen's goroutine and should return quickly (for
// example, a non-blocking send on a channel of capacity one); it is called
// once per notification, so a burst of writes gives a burst of calls, which
// the caller may coalesce. A notification means only "something changed":
// the caller reads the change log (index.Store.CatchUp) to learn what.
//
// LISTEN needs a session of its own: through PgBouncer, the connection
// string must lead to session pooling, not transaction pooling.
func (s *Store) Listen(ctx context.Context, notify func()) error {
	if s.config == nil {
		return errors.New("postgres: Listen before Open")
	}
	if s.ListenIdleCheck <= 0 {
		return fmt.Errorf("postgres: ListenIdleCheck must be positive, not %v", s.ListenIdleCheck)
	}
	backoff := listenMinBackoff
	for attempt := 0; ; attempt++ {
		since, err := s.listen(ctx, notify, attempt > 0)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A session that lasted starts the backoff over; one that drops
		// as soon as it is made (a server refusing or killing sessions)
		// keeps doubling it.
		if !since.IsZero() && time.Since(since) >= listenMaxBackoff {
			backoff = listenMinBackoff
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		s.Logger.WarnContext(ctx, "postgres: change listener: no connection; retrying",
			"schema", s.schema, "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, listenMaxBackoff)
	}
}

// listen runs one listening session: it connects, LISTENs, calls notify
// and then calls it for each notification until the connection fails or
// ctx is done. It returns when the session started listening (zero if it
// never did) and why it ended.
func (s *Store) listen(ctx context.Context, notify func(), retry bool) (since time.Time, err error) {
	conn, err := pgx.ConnectConfig(ctx, s.config.Copy())
	if err != nil {
		return time.Time{}, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), listenCloseTimeout)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return time.Time{}, err
	}
	since = time.Now()
	if retry {
		s.Logger.InfoContext(ctx, "postgres: change listener: connected again", "schema", s.schema)
	}
	// Listening from here on, so whatever the caller reads now or later
	// can't miss a write: catch up on the ones made while disconnected.
	notify()
	for {
		wctx, cancel := context.WithTimeout(ctx, s.ListenIdleCheck)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			// One channel serves every schema of the database; the
			// payload says which was written.
			if n.Payload == s.schema {
				notify()
			}
		case ctx.Err() != nil:
			return since, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			// Quiet for a while; a timed-out wait leaves the connection
			// usable, so check that the server still answers on it.
			pctx, cancel := context.WithTimeout(ctx, listenPingTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return since, err
			}
		default:
			return since, err
		}
	}
}
