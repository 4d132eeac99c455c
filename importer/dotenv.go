package importer

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/manifest"
)

// dotenv converts a .env file into String parameters, KEY under to+KEY.
//
// The syntax is the common one of docker compose, godotenv and
// python-dotenv: KEY=VALUE lines, blank lines and # comments, an optional
// "export " prefix, spaces around "=", and values unquoted (trimmed, a " #"
// starts a comment), in single quotes (literal) or in double quotes (the
// escapes \n \r \t \" \\ \$; both kinds of quotes may span lines). A key
// given twice keeps its last value, as a shell sourcing the file would; the
// earlier lines are reported as skipped. Those tools expand $VAR and ${VAR}
// in unquoted and double-quoted values; Vane stores values as written, so
// such a value is skipped rather than imported with a different meaning
// (write \$ or single quotes for a literal dollar). Empty values are
// skipped too: SSM parameters cannot be empty. A syntax error that hides
// where the next line starts (a quote never closed) fails the conversion.
func dotenv(data []byte, to string) (*manifest.File, []Skip, error) {
	f, err := newFile(to)
	if err != nil {
		return nil, nil, err
	}
	type line struct {
		n     int
		value string
	}
	last := map[string]line{}
	seen := map[string]bool{}
	var order []string
	type lineSkip struct {
		n int
		Skip
	}
	var skips []lineSkip
	skip := func(n int, item, reason string) { skips = append(skips, lineSkip{n, Skip{item, reason}}) }
	src := strings.ReplaceAll(string(data), "\r\n", "\n")
	src = strings.TrimPrefix(src, "\ufeff")
	n := 0
	for src != "" {
		n++
		var text string
		text, src, _ = strings.Cut(src, "\n")
		start := n
		s := strings.TrimSpace(text)
		if s == "" || s[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(s, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			s = strings.TrimSpace(rest)
		}
		key, raw, ok := strings.Cut(s, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			skip(start, fmt.Sprintf("line %d", start), "not KEY=VALUE")
			continue
		}
		raw = strings.TrimLeft(raw, " \t")
		value, rest, lines, err := dotenvValue(raw, src)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %s: %w", start, key, err)
		}
		n += lines
		src = rest
		item := fmt.Sprintf("%s (line %d)", key, start)
		if prev, ok := last[key]; ok {
			skip(prev.n, fmt.Sprintf("%s (line %d)", key, prev.n), fmt.Sprintf("line %d sets it again", start))
		}
		if !seen[key] {
			seen[key] = true
			order = append(order, key)
		}
		if err := dotenvKey(key); err != nil {
			delete(last, key)
			skip(start, item, err.Error())
			continue
		}
		if value.err != nil {
			delete(last, key)
			skip(start, item, value.err.Error())
			continue
		}
		last[key] = line{start, value.text}
	}
	for _, key := range order {
		l, ok := last[key]
		if !ok {
			continue
		}
		item := fmt.Sprintf("%s (line %d)", key, l.n)
		if l.value == "" {
			skip(l.n, item, "the value is empty, and SSM parameters cannot be empty")
			continue
		}
		v := l.value
		if err := add(f, key, &manifest.Entry{Type: string(vane.TypeString), Value: &v}); err != nil {
			skip(l.n, item, err.Error())
		}
	}
	slices.SortStableFunc(skips, func(a, b lineSkip) int { return a.n - b.n })
	out := make([]Skip, len(skips))
	for i, s := range skips {
		out[i] = s.Skip
	}
	return f, out, nil
}

// dotenvKey checks that a key is one name segment.
func dotenvKey(key string) error {
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return fmt.Errorf("the key contains %q: a parameter name segment allows only a-z, A-Z, 0-9, '_', '.' and '-'", r)
		}
	}
	return nil
}

// envValue is a parsed value, or why it is not imported.
type envValue struct {
	text string
	err  error
}

// dotenvValue parses the value that begins raw (the rest of its line) and
// may continue into src (the lines after it). It returns the value, what
// of src is left, and how many lines of src it took.
func dotenvValue(raw, src string) (envValue, string, int, error) {
	if raw == "" || (raw[0] != '"' && raw[0] != '\'') {
		v := raw
		if i := strings.Index(v, " #"); i >= 0 {
			v = v[:i]
		}
		if i := strings.Index(v, "\t#"); i >= 0 {
			v = v[:i]
		}
		v = strings.TrimSpace(v)
		return envValue{text: v, err: expansion(v)}, src, 0, nil
	}
	quote := raw[0]
	body := raw[1:]
	lines := 0
	var b strings.Builder
	var expands error
	for {
		i := 0
		for ; i < len(body); i++ {
			c := body[i]
			if c == quote {
				break
			}
			if quote == '"' && c == '$' && expands == nil && i+1 < len(body) {
				expands = expansion(body[i : i+2])
			}
			if quote == '"' && c == '\\' && i+1 < len(body) {
				i++
				switch body[i] {
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				case '"', '\\', '$':
					b.WriteByte(body[i])
				default:
					b.WriteByte('\\')
					b.WriteByte(body[i])
				}
				continue
			}
			b.WriteByte(c)
		}
		if i < len(body) {
			after := strings.TrimSpace(body[i+1:])
			if after != "" && after[0] != '#' {
				return envValue{}, "", 0, fmt.Errorf("%q after the closing quote", after)
			}
			return envValue{text: b.String(), err: expands}, src, lines, nil
		}
		if src == "" {
			return envValue{}, "", 0, fmt.Errorf("the %c quote is never closed", quote)
		}
		b.WriteByte('\n')
		body, src, _ = strings.Cut(src, "\n")
		lines++
	}
}

// expansion returns an error if s (unquoted or double-quoted text) uses
// variable expansion: $NAME or ${...}.
func expansion(s string) error {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] != '$' {
			continue
		}
		c := s[i+1]
		if c == '{' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			return errors.New("the value uses variable expansion ($NAME or ${NAME}), which Vane does not do: write \\$ or single quotes for a literal $")
		}
	}
	return nil
}

var _ converter = dotenv
