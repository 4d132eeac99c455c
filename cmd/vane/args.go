package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
)

// flagSet is a subcommand's flags with the text of its --help.
type flagSet struct {
	*flag.FlagSet
	synopsis    string // after "vane NAME"
	description string
	examples    string
	aliases     map[string]string // long name → the short name it stands for
}

// flagSet returns an empty flag set for a subcommand. Errors are reported
// by Run as one line, and help by printUsage, so the flag package itself
// prints nothing.
func (c *cli) flagSet(name, synopsis, description, examples string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flagSet{FlagSet: fs, synopsis: synopsis, description: description, examples: examples,
		aliases: map[string]string{}}
}

// boolFlag defines a boolean flag with a short and a long name.
func (fs *flagSet) boolFlag(short, long, usage string) *bool {
	p := fs.Bool(short, false, usage)
	fs.BoolVar(p, long, false, usage)
	fs.aliases[long] = short
	return p
}

// stringFlag defines a string flag with a short and a long name.
func (fs *flagSet) stringFlag(short, long, value, usage string) *string {
	p := fs.String(short, value, usage)
	fs.StringVar(p, long, value, usage)
	fs.aliases[long] = short
	return p
}

// printFlags writes the flags, one per line with their aliases, as
// "-o, --output FORMAT  usage". Defaults are stated in the usage texts.
func (fs *flagSet) printFlags(w io.Writer) {
	long := map[string]string{} // short → long
	for l, s := range fs.aliases {
		long[s] = l
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := fs.aliases[f.Name]; ok {
			return
		}
		names := "--" + f.Name
		if len(f.Name) == 1 {
			names = "-" + f.Name
		}
		if l, ok := long[f.Name]; ok {
			names += ", --" + l
		}
		arg, usage := flag.UnquoteUsage(f)
		if isBoolFlag(f) {
			arg = ""
		}
		fmt.Fprintf(tw, "  %s %s\t%s\n", names, arg, usage)
	})
	tw.Flush()
}

// printUsage writes the --help text of the subcommand to w.
func (fs *flagSet) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: vane %s", fs.Name())
	if fs.synopsis != "" {
		fmt.Fprintf(w, " %s", fs.synopsis)
	}
	fmt.Fprintf(w, "\n\n%s\n", strings.TrimSpace(fs.description))
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprint(w, "\nFlags:\n")
		fs.printFlags(w)
	}
	if fs.examples != "" {
		fmt.Fprint(w, "\nExamples:\n")
		for _, line := range strings.Split(strings.TrimSpace(fs.examples), "\n") {
			fmt.Fprintf(w, "  %s\n", strings.TrimSpace(line))
		}
	}
}

// parse parses args for the subcommand and returns its positional
// arguments, of which there must be at least min and, unless max is
// negative, at most max. On -h or --help it prints the usage to stdout and
// returns flag.ErrHelp; any other failure is a usageError.
func (c *cli) parse(fs *flagSet, args []string, min, max int) ([]string, error) {
	pos, err := parseInterleaved(fs.FlagSet, args)
	if err == flag.ErrHelp {
		fs.printUsage(c.stdout)
		return nil, err
	}
	if err != nil {
		return nil, usageError{fmt.Errorf("%s: %w (see 'vane %[1]s --help')", fs.Name(), err)}
	}
	switch {
	case len(pos) < min:
		return nil, usageError{fmt.Errorf("%s: missing arguments: usage: vane %[1]s %s", fs.Name(), fs.synopsis)}
	case max >= 0 && len(pos) > max:
		return nil, usageError{fmt.Errorf("%s: too many arguments %q: usage: vane %[1]s %s", fs.Name(), pos[max:], fs.synopsis)}
	}
	return pos, nil
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, which the flag package alone does not allow: it
// stops at the first positional argument. Each argument is classified by
// looking its flag up in fs, so that the value of a non-boolean flag is
// never taken for a positional argument (nor the other way round). "-" alone
// and negative numbers that are not flags are positional, and "--" makes
// everything after it positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := fs.Lookup(name)
		if f == nil {
			if _, err := strconv.ParseFloat(a, 64); err == nil {
				pos = append(pos, a)
				continue
			}
			// fs.Parse reports the unknown flag (or ErrHelp for -h).
			flags = append(flags, a)
			continue
		}
		flags = append(flags, a)
		if !hasValue && !isBoolFlag(f) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	return pos, nil
}

// isBoolFlag reports whether f takes no value, as the flag package decides.
func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// clientFlags are the flags every client command takes.
type clientFlags struct {
	server string
	output *string
}

// clientFlagSet returns a subcommand's flag set with the client flags.
func (c *cli) clientFlagSet(name, synopsis, description, examples string) (*flagSet, *clientFlags) {
	fs := c.flagSet(name, synopsis, description, examples)
	cf := &clientFlags{}
	fs.StringVar(&cf.server, "server", "", "the Vane server's `URL` (default $VANE_SERVER, else http://"+DefaultAddr+")")
	cf.output = fs.stringFlag("o", "output", "table", "output `FORMAT`: table (the default) or json")
	return fs, cf
}

// json reports whether the output format is JSON.
func (cf *clientFlags) json() bool { return *cf.output == "json" }

// readFile returns the content of the file an argument names, "-" for
// stdin.
func (c *cli) readFile(arg string) ([]byte, error) {
	if arg == "-" {
		return io.ReadAll(c.stdin)
	}
	return os.ReadFile(arg)
}

// readValue returns the value an argument stands for: "-" is the whole of
// stdin, "@FILE" the whole content of FILE, anything else itself.
func (c *cli) readValue(arg string) (string, error) {
	switch {
	case arg == "-":
		b, err := io.ReadAll(c.stdin)
		if err != nil {
			return "", fmt.Errorf("reading the value from stdin: %w", err)
		}
		return string(b), nil
	case strings.HasPrefix(arg, "@"):
		if arg == "@" {
			return "", usageError{fmt.Errorf("value @ names no file: use @FILE")}
		}
		b, err := os.ReadFile(arg[1:])
		if err != nil {
			return "", fmt.Errorf("reading the value from a file: %w", err)
		}
		return string(b), nil
	}
	return arg, nil
}

// tagsFlag collects KEY=VALUE tags given as "k=v,k2=v2", possibly in
// several flags.
type tagsFlag map[string]string

// String implements flag.Value.
func (t tagsFlag) String() string {
	var parts []string
	for k, v := range t {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value.
func (t tagsFlag) Set(s string) error {
	for _, kv := range strings.Split(s, ",") {
		k, v, err := parseTag(kv)
		if err != nil {
			return err
		}
		t[k] = v
	}
	return nil
}

// parseTag parses "KEY=VALUE"; the value may be empty, the key may not.
func parseTag(kv string) (key, value string, err error) {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return "", "", fmt.Errorf("tag %q must be KEY=VALUE", kv)
	}
	return k, v, nil
}

// splitSelector splits "NAME:SELECTOR" into the name and the selector (a
// version number or a label); names never contain ':'.
func splitSelector(arg string) (name, sel string, err error) {
	name, sel, ok := strings.Cut(arg, ":")
	if ok && sel == "" {
		return "", "", usageError{fmt.Errorf("%q ends with ':': give a version number or a label after it", arg)}
	}
	if name == "" {
		return "", "", usageError{fmt.Errorf("%q has no parameter name", arg)}
	}
	return name, sel, nil
}

// isVersion reports whether a selector selects by version: labels may not
// begin with a digit.
func isVersion(sel string) bool { return sel != "" && sel[0] >= '0' && sel[0] <= '9' }

// parseVersionSelector splits "NAME[:VERSION]"; version is 0 without one.
func parseVersionSelector(arg string) (name string, version int64, err error) {
	name, sel, err := splitSelector(arg)
	if err != nil || sel == "" {
		return name, 0, err
	}
	v, err := strconv.ParseInt(sel, 10, 64)
	if err != nil || v < 1 {
		return "", 0, usageError{fmt.Errorf("%q: the part after ':' must be a version number of at least 1", arg)}
	}
	return name, v, nil
}
