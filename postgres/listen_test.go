package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vanehq/vane"
	"github.com/vanehq/vane/postgres"
)

const (
	// notifyDeadline is how soon a write on one node must reach another
	// node's listener.
	notifyDeadline = time.Second
	// reconnectDeadline is how soon a listener must be back after losing
	// its connection: the first retry waits at most 100 ms.
	reconnectDeadline = 10 * time.Second
)

// listener runs Listen on a store in the background.
type listener struct {
	wake chan struct{}
	stop context.CancelFunc
	done chan error
}

// startListen runs s.Listen until the test ends or stop is called. Each
// notify wakes the channel, coalesced the way a caller would.
func startListen(t *testing.T, s *postgres.Store) *listener {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{wake: make(chan struct{}, 1), stop: cancel, done: make(chan error, 1)}
	go func() {
		l.done <- s.Listen(ctx, func() {
			select {
			case l.wake <- struct{}{}:
			default:
			}
		})
	}()
	// Registered after the schema's cleanup, so it runs before the schema
	// is dropped.
	t.Cleanup(func() {
		cancel()
		<-l.done
	})
	return l
}

// wait fails the test unless notify is called within d.
func (l *listener) wait(t *testing.T, what string, d time.Duration) {
	t.Helper()
	select {
	case <-l.wake:
	case err := <-l.done:
		t.Fatalf("%s: Listen returned %v", what, err)
	case <-time.After(d):
		t.Fatalf("%s: no notify within %v", what, d)
	}
}

// wantCanceled stops the listener and checks that Listen returns the
// context's error.
func (l *listener) wantCanceled(t *testing.T) {
	t.Helper()
	l.stop()
	select {
	case err := <-l.done:
		l.done <- err // for the cleanup
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Listen returned %v, want context.Canceled", err)
		}
	case <-time.After(reconnectDeadline):
		t.Fatal("Listen did not return after its context was canceled")
	}
}

// listenNodes opens two stores on one new schema: a writer, and a node
// whose sessions carry an application_name of their own, returned, so
// that its listening session can be told from the writer's in
// pg_stat_activity.
func listenNodes(t *testing.T) (writer, follower *postgres.Store, app string) {
	t.Helper()
	schema, dsn := NewSchema(t)
	app = schema + "_listen"
	return OpenDSN(t, dsn), OpenDSN(t, withParams(t, dsn, map[string]string{"application_name": app})), app
}

func put(t *testing.T, s vane.Store, name, value string) {
	t.Helper()
	if _, err := s.Put(t.Context(), &vane.PutInput{Name: name, Value: value, Type: vane.TypeString, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
}

func TestListenNotifiesOtherNodesWrites(t *testing.T) {
	b, a, _ := listenNodes(t)
	l := startListen(t, a)
	l.wait(t, "connecting", reconnectDeadline)
	// One write makes one notification, so none is pending before the
	// next put. The listening node hears its own writes too.
	for _, s := range []*postgres.Store{b, b, a} {
		put(t, s, "/listen/p", "x")
		l.wait(t, "a put", notifyDeadline)
	}
	l.wantCanceled(t)
}

// TestListenReconnects kills the listener's connection on the server: it
// must connect again, notify (writes may have been missed meanwhile) and
// go on notifying.
func TestListenReconnects(t *testing.T) {
	b, a, app := listenNodes(t)
	l := startListen(t, a)
	l.wait(t, "connecting", reconnectDeadline)
	pid := listenerPID(t, app, 0)
	for range 3 {
		admin(t, t.Context(), `SELECT pg_terminate_backend($1)`, pid)
		l.wait(t, "reconnecting", reconnectDeadline)
		pid = listenerPID(t, app, pid)
		put(t, b, "/listen/p", "x")
		l.wait(t, "a put after reconnecting", notifyDeadline)
	}
	l.wantCanceled(t)
}

// TestListenSurvivesIdleChecks makes the listener check its idle
// connection every few milliseconds: the timed-out waits and the pings
// must leave the session listening, without reconnecting.
func TestListenSurvivesIdleChecks(t *testing.T) {
	b, a, app := listenNodes(t)
	a.ListenIdleCheck = 10 * time.Millisecond
	l := startListen(t, a)
	l.wait(t, "connecting", reconnectDeadline)
	pid := listenerPID(t, app, 0)
	conn, err := pgx.Connect(t.Context(), baseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	pinged := false
	for deadline := time.Now().Add(reconnectDeadline); !pinged && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		q := `SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1 AND query = '-- ping')`
		if err := conn.QueryRow(t.Context(), q, pid).Scan(&pinged); err != nil {
			t.Fatal(err)
		}
	}
	if !pinged {
		t.Fatal("the listener's session never pinged")
	}
	select {
	case <-l.wake:
		t.Fatal("the listener notified without a write: it reconnected")
	default:
	}
	for range 3 {
		put(t, b, "/listen/p", "x")
		l.wait(t, "a put after idle checks", notifyDeadline)
	}
	l.wantCanceled(t)
}

// listenerPID returns the backend process of the one session named app
// that listens (its last statement was the LISTEN or an idle check's
// ping), once it is not old: a terminated backend may linger in
// pg_stat_activity for a moment.
func listenerPID(t *testing.T, app string, old int) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), baseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	var pids []int
	for deadline := time.Now().Add(reconnectDeadline); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		rows, err := conn.Query(t.Context(), `SELECT pid FROM pg_stat_activity
			WHERE application_name = $1 AND (query LIKE 'LISTEN %' OR query = '-- ping')`, app)
		if err != nil {
			t.Fatal(err)
		}
		if pids, err = pgx.CollectRows(rows, pgx.RowTo[int]); err != nil {
			t.Fatal(err)
		}
		if len(pids) == 1 && pids[0] != old {
			return pids[0]
		}
	}
	t.Fatalf("listening sessions %v, want one other than %d", pids, old)
	return 0
}

func TestListenErrNotOpen(t *testing.T) {
	err := postgres.NewStore("postgres://127.0.0.1/x").Listen(t.Context(), func() {})
	if err == nil {
		t.Fatal("Listen before Open: got no error")
	}
}
