// Command vane is the single Vane binary: `vane serve` runs the server and
// the other subcommands are a command-line client of its native REST API
// (/v1), in the spirit of `aws ssm`.
//
// Run `vane help` for the list of commands and `vane COMMAND --help` for
// the flags and examples of one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	// Flag schedule conditions name IANA time zones; embed the zone
	// database so they resolve on hosts without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// version is the release version of the binary, set at link time with
// -ldflags "-X main.version=v1.2.3"; it is never changed at run time.
var version = "dev"

// requestTimeout bounds each request of the client commands, so that a
// server that accepts connections but never answers does not hang a script.
const requestTimeout = time.Minute

// Exit codes of Run.
const (
	exitOK    = 0
	exitError = 1 // the server or the API refused, or an I/O error
	exitUsage = 2 // the command line is wrong
	// exitProposed: the write needs approval and became a change request;
	// nothing was written yet.
	exitProposed = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Run runs the vane command line args (without the program name) and
// returns the process exit code: 0 on success, 1 when the server or an I/O
// operation fails, 2 for a usage error, 3 when a write became a change
// request. Client commands find the server in
// --server, then $VANE_SERVER, then DefaultAddr.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{
		stdin:  stdin,
		stdout: stdout,
		stderr: stderr,
		getenv: os.Getenv,
		http:   &http.Client{CheckRedirect: noRedirects, Timeout: requestTimeout},
	}
	return c.run(ctx, args)
}

// cli is one invocation of the command line, with everything it touches
// from the outside world.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	http           *http.Client
}

// command is a subcommand of vane.
type command struct {
	name    string
	summary string // one line, for `vane help`
	run     func(c *cli, ctx context.Context, args []string) error
}

// commands lists the subcommands in the order `vane help` shows them. It is
// a function, not a variable, so that there is no package-level state.
func commands() []command {
	return []command{
		{"serve", "run the Vane server", runServeCommand},
		{"migrate", "copy a whole database (SQLite, PostgreSQL) into a new one", (*cli).migrate},
		{"backup", "take an online, consistent backup of a running SQLite server", (*cli).backup},
		{"restore", "restore a backup into a new data directory, and verify it", (*cli).restore},
		{"put", "create a parameter or add a version to it", (*cli).put},
		{"get", "print a parameter's value (or a version or label of it)", (*cli).get},
		{"ls", "list the parameters under a path", (*cli).ls},
		{"rm", "delete a parameter with all its versions", (*cli).rm},
		{"history", "list the versions of a parameter", (*cli).history},
		{"label", "attach labels to a version of a parameter", (*cli).label},
		{"unlabel", "remove labels from a version of a parameter", (*cli).unlabel},
		{"tag", "list, add or remove a parameter's tags", (*cli).tag},
		{"batch", "apply several writes from a file, all or nothing", (*cli).batch},
		{"export", "write a subtree to a YAML or JSON file for git (config as code)", (*cli).export},
		{"import", "make a subtree match a file from 'vane export', in one atomic batch", (*cli).importFile},
		{"diff", "compare two subtrees by relative name", (*cli).diff},
		{"promote", "copy the differences of one subtree into another, in one atomic batch", (*cli).promote},
		{"cr", "change requests: propose, review and apply changes that need approval", (*cli).cr},
		{"watch", "print the changes under a path as they happen", (*cli).watch},
		{"flags", "list feature flags with their usage, or evaluate one", (*cli).flags},
		{"rollout", "start, watch and control staged rollouts", (*cli).rollout},
		{"schedule", "schedule a put, a label move or a rollout for a later time", (*cli).schedule},
		{"events", "send changes to webhooks, Slack or the log: rules, deliveries, dead letters", (*cli).events},
		{"audit", "print the audit history: who changed what, when, from where", (*cli).audit},
		{"keys", "list, create, disable and delete access keys (credentials)", (*cli).accessKeys},
		{"policy", "explain whether an access key may perform an action on a name", (*cli).policy},
		{"kms", "list, create and rotate the keys that encrypt SecureString values", (*cli).kms},
		{"version", "print the version of this binary", (*cli).version},
		{"help", "print help about vane or one of its commands", (*cli).help},
	}
}

func findCommand(name string) (command, bool) {
	for _, cmd := range commands() {
		if cmd.name == name {
			return cmd, true
		}
	}
	return command{}, false
}

func (c *cli) run(ctx context.Context, args []string) int {
	lead, args, err := splitGlobalFlags(args)
	if err != nil {
		return c.fail(err)
	}
	if len(args) == 0 {
		if hasFlag(lead, "version") {
			return c.fail(c.version(ctx, nil))
		}
		if hasFlag(lead, "h", "help") {
			c.usage(c.stdout)
			return exitOK
		}
		fmt.Fprintln(c.stderr, "vane: a command is required")
		c.usage(c.stderr)
		return exitUsage
	}
	cmd, ok := findCommand(args[0])
	if !ok {
		fmt.Fprintf(c.stderr, "vane: unknown command %q\n", args[0])
		c.usage(c.stderr)
		return exitUsage
	}
	if len(lead) > 0 && (cmd.name == "serve" || cmd.name == "version" || cmd.name == "help") {
		return c.fail(usageError{fmt.Errorf("%s before %q: client flags go with client commands", lead[0], cmd.name)})
	}
	return c.fail(cmd.run(c, ctx, append(lead, args[1:]...)))
}

// fail prints err, if any, as one line on stderr and returns the exit code
// it calls for.
func (c *cli) fail(err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(c.stderr, "vane: %s\n", oneLine(err.Error()))
	var u usageError
	if errors.As(err, &u) {
		return exitUsage
	}
	var p *proposedError
	if errors.As(err, &p) {
		return exitProposed
	}
	return exitError
}

// splitGlobalFlags splits off the client flags given before the command
// ("vane --server URL ls /"), so they can be handed to the command, and
// recognises --help and --version there.
func splitGlobalFlags(args []string) (lead, rest []string, err error) {
	for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' {
		a := args[0]
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch name {
		case "h", "help", "version":
			lead, args = append(lead, a), args[1:]
		case "server", "o", "output":
			if hasValue {
				lead, args = append(lead, a), args[1:]
				continue
			}
			if len(args) < 2 {
				return nil, nil, usageError{fmt.Errorf("flag needs an argument: %s", a)}
			}
			lead, args = append(lead, a, args[1]), args[2:]
		default:
			return nil, nil, usageError{fmt.Errorf("unknown flag %s before the command; run 'vane help'", a)}
		}
	}
	if hasFlag(lead, "h", "help") && len(args) > 0 {
		// "vane --help put" asks for the help of put.
		return nil, []string{"help", args[0]}, nil
	}
	return lead, args, nil
}

// hasFlag reports whether any of names appears as a flag in args.
func hasFlag(args []string, names ...string) bool {
	for _, a := range args {
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		for _, n := range names {
			if name == n {
				return true
			}
		}
	}
	return false
}

const mainUsage = `Usage: vane COMMAND [ARGS] [FLAGS]

Vane is a feature-flag and runtime-configuration service with the data model
of AWS SSM Parameter Store: hierarchical parameter names, typed values,
versions, labels and tags. "vane serve" runs the server; the other commands
are its command-line client, talking to the native REST API.

Commands:
%s
Client flags (every client command; also accepted before the command):
  --server URL    the Vane server (default $VANE_SERVER, else http://%s)
  -o FORMAT       output: table (for people; the default) or json (the API's JSON)

Flags may come before or after the arguments, with one dash or two; "--"
ends the flags. Exit status: 0 on success, 1 when the server refuses or
cannot be reached, 2 when the command line is wrong, 3 when a write needs
approval and became a change request instead (see 'vane cr --help').

Examples:
  vane serve --data ./vane-data &
  vane put /myapp/prod/db/url postgres://db:5432/app
  vane put /myapp/prod/db/url postgres://db2:5432/app --overwrite
  vane get /myapp/prod/db/url
  vane ls /myapp -r
  vane history /myapp/prod/db/url

Run 'vane COMMAND --help' for the flags and examples of a command.
`

// usage writes the main help text to w.
func (c *cli) usage(w io.Writer) {
	var b strings.Builder
	for _, cmd := range commands() {
		fmt.Fprintf(&b, "  %-9s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(w, mainUsage, b.String(), DefaultAddr)
}

// help runs `vane help [COMMAND]`.
func (c *cli) help(ctx context.Context, args []string) error {
	switch len(args) {
	case 0:
		c.usage(c.stdout)
		return nil
	case 1:
		if args[0] == "help" || hasFlag(args, "h", "help") {
			c.usage(c.stdout)
			return nil
		}
		cmd, ok := findCommand(args[0])
		if !ok {
			return usageError{fmt.Errorf("help: unknown command %q; run 'vane help' for the list", args[0])}
		}
		return cmd.run(c, ctx, []string{"--help"})
	}
	return usageError{fmt.Errorf("help takes at most one command, got %q", args)}
}

// version runs `vane version`.
func (c *cli) version(_ context.Context, args []string) error {
	fs := c.flagSet("version", "", "Prints the version of this binary, with the VCS revision and Go version it was built from.", "vane version")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, versionString())
	return nil
}

// versionString describes the binary: "vane VERSION (rev REV[, modified]; GO OS/ARCH)".
func versionString() string {
	v, details := version, []string{}
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		var rev string
		var modified bool
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if modified {
				rev += ", modified"
			}
			details = append(details, "rev "+rev)
		}
	}
	details = append(details, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	return "vane " + v + " (" + strings.Join(details, "; ") + ")"
}

// runServeCommand runs `vane serve`, which serve.go implements.
func runServeCommand(c *cli, ctx context.Context, args []string) error {
	if hasFlag(args, "h", "help") {
		// Help asked for is output, like every other command's help.
		return runServe(ctx, args, c.stdout, c.stdout)
	}
	return runServe(ctx, args, c.stdout, c.stderr)
}

// oneLine keeps an error message on one line of the terminal.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(strings.TrimSpace(s))
}
