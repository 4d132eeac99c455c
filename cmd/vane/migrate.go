package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/vanehq/vane/postgres"
	"github.com/vanehq/vane/sqlite"
	"github.com/vanehq/vane/sqlstore"
)

// migrate runs `vane migrate`.
func (c *cli) migrate(ctx context.Context, args []string) error {
	fs := c.flagSet("migrate", "--from URL --to URL", `
Copies a Vane database into a new, empty one: every parameter with all its
kept versions, labels and tags, the whole change log, the audit history,
flag usage, access keys, rollouts, scheduled changes and the background
jobs' leases, keeping version numbers, times, principals and change
sequence numbers, so that change-log followers and jobs carry on where they
were. It then checks, table by table, that the
destination holds exactly the source's rows, and prints what it copied.

A URL is sqlite:///ABSOLUTE/PATH, sqlite://./RELATIVE/PATH or a bare file
path for SQLite (vane serve keeps DATA_DIR/vane.db), or postgres://... or
postgresql://... for PostgreSQL. The destination's schema is created if
needed; it must hold no parameter, change, rollout, scheduled change or job
lease (start no server on it before).

The source is read as one snapshot: changes made to it after the copy starts
are not copied, so stop the servers writing to it first. Nothing may write
to the destination until the command ends. A copy that fails part-way
leaves the destination partly filled: empty it before trying again.`, `
vane migrate --from sqlite:///var/lib/vane/vane.db --to postgres://vane@db:5432/vane
vane migrate --from ./vane-data/vane.db --to sqlite:///backup/vane.db`)
	from := fs.String("from", "", "`URL` of the database to copy")
	to := fs.String("to", "", "`URL` of the new database to copy into")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return usageError{errors.New("migrate: --from and --to are both required: usage: vane migrate --from URL --to URL")}
	}
	src, err := parseStoreURL(*from)
	if err != nil {
		return usageError{fmt.Errorf("migrate: --from: %w", err)}
	}
	dst, err := parseStoreURL(*to)
	if err != nil {
		return usageError{fmt.Errorf("migrate: --to: %w", err)}
	}
	if src.same(dst) {
		return usageError{fmt.Errorf("migrate: --from and --to both name %s", src)}
	}

	if src.driver == "sqlite" {
		// Opening a SQLite file creates it: a mistyped source would be
		// copied as an empty database.
		if _, err := os.Stat(src.path); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("migrate: the source %s does not exist", src.path)
		}
	}
	srcStore, closeFrom, err := openStore(ctx, src)
	if err != nil {
		return fmt.Errorf("migrate: open the source %s: %w", src, err)
	}
	defer closeFrom()
	dstStore, closeTo, err := openStore(ctx, dst)
	if err != nil {
		return fmt.Errorf("migrate: open the destination %s: %w", dst, err)
	}
	defer closeTo()

	pr := newProgress(c.stderr)
	stats, err := sqlstore.Copy(ctx, dstStore, srcStore, pr.update)
	pr.finish()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := closeTo(); err != nil {
		return fmt.Errorf("migrate: close the destination %s: %w", dst, err)
	}

	fmt.Fprintf(c.stdout, "Copied %s to %s:\n", src, dst)
	rows := []struct {
		table string
		n     int64
	}{
		{"parameters", stats.Parameters},
		{"versions", stats.Versions},
		{"labels", stats.Labels},
		{"tags", stats.Tags},
		{"changes", stats.Changes},
		{"audit", stats.Audit},
		{"flag usage", stats.Usage},
		{"access keys", stats.Keys},
		{"rollouts", stats.Rollouts},
		{"schedules", stats.Schedules},
		{"change requests", stats.ChangeRequests},
		{"job leases", stats.Leases},
		{"event rules", stats.EventRules},
		{"deliveries", stats.EventDeliveries},
		{"attempts", stats.EventAttempts},
	}
	width := len(fmt.Sprint(stats.Total()))
	for _, r := range rows {
		fmt.Fprintf(c.stdout, "  %-15s %*d\n", r.table, width, r.n)
	}
	fmt.Fprintf(c.stdout, "  %-15s %*d\n", "total", width, stats.Total())
	fmt.Fprintf(c.stdout, "Last change sequence: %d\n", stats.MaxSeq)
	fmt.Fprintln(c.stdout, "verified: every table of the destination matches the source")
	return nil
}

// storeURL is a database named by --from or --to.
type storeURL struct {
	driver string // "sqlite" or "postgres"
	path   string // sqlite: the file
	dsn    string // postgres: the URL as given
}

// schemeRE matches the scheme of a URL, to tell a URL from a file path.
var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// parseStoreURL parses a database URL: sqlite:///ABS/PATH, sqlite://REL/PATH,
// a bare file path (SQLite), or postgres:// and postgresql:// URLs.
func parseStoreURL(s string) (storeURL, error) {
	var path string
	switch {
	case s == "":
		return storeURL{}, errors.New("empty database URL")
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		u, err := url.Parse(s)
		if err != nil {
			return storeURL{}, fmt.Errorf("PostgreSQL URL: %w", err)
		}
		if u.Opaque != "" {
			return storeURL{}, fmt.Errorf("PostgreSQL URL %q: want postgres://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE", u.Redacted())
		}
		return storeURL{driver: "postgres", dsn: s}, nil
	case strings.HasPrefix(s, "sqlite://"):
		path = strings.TrimPrefix(s, "sqlite://")
	case schemeRE.MatchString(s):
		return storeURL{}, fmt.Errorf("%q: unknown database scheme %q: use sqlite:// or postgres:// (write a file path whose name has a colon as ./NAME)",
			s, strings.TrimSuffix(schemeRE.FindString(s), ":"))
	default:
		path = s
	}
	if path == "" {
		return storeURL{}, fmt.Errorf("%q names no SQLite file: use sqlite:///ABSOLUTE/PATH or sqlite://./RELATIVE/PATH", s)
	}
	if strings.ContainsAny(path, "?#") {
		// The SQLite backend appends its own query to the path.
		return storeURL{}, fmt.Errorf("%q: a SQLite path may not hold '?' or '#' (SQLite options are not taken)", s)
	}
	return storeURL{driver: "sqlite", path: path}, nil
}

// String returns the URL for people, without a password.
func (u storeURL) String() string {
	if u.driver == "sqlite" {
		return "sqlite://" + u.path
	}
	if p, err := url.Parse(u.dsn); err == nil {
		return p.Redacted()
	}
	return u.dsn
}

// same reports whether u and v plainly name the same database.
func (u storeURL) same(v storeURL) bool {
	if u.driver != v.driver {
		return false
	}
	if u.driver == "postgres" {
		return u.dsn == v.dsn
	}
	a, err1 := filepath.Abs(u.path)
	b, err2 := filepath.Abs(v.path)
	return err1 == nil && err2 == nil && a == b
}

// openStore opens and migrates the database u names, returning its
// dialect-neutral store and the function that closes it (once; later calls
// return nil).
func openStore(ctx context.Context, u storeURL) (*sqlstore.Store, func() error, error) {
	var store *sqlstore.Store
	var closer io.Closer
	switch u.driver {
	case "sqlite":
		s, err := sqlite.Open(u.path)
		if err != nil {
			return nil, nil, err
		}
		store, closer = s.Store, s
	default:
		s, err := postgres.Open(ctx, u.dsn)
		if err != nil {
			return nil, nil, err
		}
		store, closer = s.Store, s
	}
	closed := false
	return store, func() error {
		if closed {
			return nil
		}
		closed = true
		return closer.Close()
	}, nil
}

// progress reports a copy's progress on stderr: a bar redrawn in place on a
// terminal, otherwise a line at every tenth of the way and at least every
// progressLinePeriod, which reads well in logs. Once every row is copied it
// says that the copy is being verified.
type progress struct {
	w     io.Writer
	tty   bool
	now   func() time.Time
	start time.Time

	last        time.Time // of the last output
	lastTenth   int64     // of the last line
	done, total int64
	width       int // of the bar's line on the screen; 0 when none
}

// Output rates of progress.
const (
	progressBarPeriod  = 100 * time.Millisecond
	progressLinePeriod = 10 * time.Second
	progressBarWidth   = 30
)

func newProgress(w io.Writer) *progress {
	now := time.Now
	return &progress{w: w, tty: isTerminal(w), now: now, start: now(), lastTenth: -1}
}

// isTerminal reports whether w is a terminal, that is a character device
// (so is /dev/null, where the bar does no harm).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// update is the progress function of sqlstore.Copy.
func (p *progress) update(done, total int64) {
	p.done, p.total = done, total
	now := p.now()
	if p.tty {
		switch {
		case done == total:
			p.last = now
			p.drawBar("verifying...")
		case now.Sub(p.last) >= progressBarPeriod:
			p.last = now
			p.drawBar("")
		}
		return
	}
	tenth := int64(10)
	if total > 0 {
		tenth = done * 10 / total
	}
	if tenth > p.lastTenth || now.Sub(p.last) >= progressLinePeriod {
		p.last, p.lastTenth = now, tenth
		fmt.Fprintf(p.w, "migrate: copied %d of %d rows (%d%%) in %s\n", done, total, percent(done, total), p.elapsed())
	}
	if done == total {
		fmt.Fprintln(p.w, "migrate: verifying the copy")
	}
}

// drawBar draws the bar over the previous one, followed by note.
func (p *progress) drawBar(note string) {
	fill := progressBarWidth
	if p.total > 0 {
		fill = int(p.done * progressBarWidth / p.total)
	}
	line := fmt.Sprintf("migrate [%s%s] %3d%% %d/%d rows in %s %s", strings.Repeat("=", fill), strings.Repeat(" ", progressBarWidth-fill),
		percent(p.done, p.total), p.done, p.total, p.elapsed(), note)
	// Spaces cover what is left of a longer previous line.
	fmt.Fprintf(p.w, "\r%-*s", p.width, line)
	p.width = max(p.width, len(line))
}

// finish redraws the bar without a note and ends its line, so that what
// follows starts on its own.
func (p *progress) finish() {
	if p.width > 0 {
		p.drawBar("")
		fmt.Fprintln(p.w)
	}
}

func (p *progress) elapsed() time.Duration {
	return p.now().Sub(p.start).Round(100 * time.Millisecond)
}

func percent(done, total int64) int64 {
	if total == 0 {
		return 100
	}
	return done * 100 / total
}
