package http

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vanehq/vane/flag"
)

// Decoding the evaluation context with encoding/json took most of an OFREP
// evaluation's time: a map of interface values built by reflection. The
// bodies of evaluations are nearly always the same small shape,
//
//	{"context": {"targetingKey": "user-42", "tier": "premium", "age_days": 45}}
//
// (and "path" for POST /v1/evaluate), so parseEvalBody reads that shape
// directly. It gives up, returning ok false, on anything else: escapes in
// strings, invalid UTF-8, nested values, unknown members, syntax errors.
// The caller then decodes the body with encoding/json as before, which
// gives the same result or the same error message. FuzzParseEvalBody
// checks that whatever it accepts, encoding/json decodes to the same.

// parseEvalBody parses b, a JSON object with the member "context" (an
// object of scalars, or null) and, when withPath, "path" (a string). Member
// names match case-insensitively, as encoding/json matches them. ok is
// false when b is not of that
// simple shape, whether or not it is valid.
func parseEvalBody(b []byte, withPath bool) (path string, ctx flag.Context, ok bool) {
	p := evalParser{b: b}
	if !p.byte('{') {
		return "", nil, false
	}
	first, seenContext, seenPath := true, false, false
	for {
		p.space()
		if p.peek() == '}' && first {
			p.i++
			break
		}
		key, ok := p.str()
		if !ok || !p.byte(':') {
			return "", nil, false
		}
		switch {
		case strings.EqualFold(key, "context") && !seenContext:
			// encoding/json merges a repeated object into the first, so
			// a repeat is left to it.
			seenContext = true
			if ctx, ok = p.object(); !ok {
				return "", nil, false
			}
		case withPath && strings.EqualFold(key, "path") && !seenPath:
			seenPath = true
			p.space()
			if p.peek() == 'n' {
				if !p.literal("null") {
					return "", nil, false
				}
				path = ""
				break
			}
			if path, ok = p.str(); !ok {
				return "", nil, false
			}
		default:
			return "", nil, false
		}
		first = false
		if p.byte(',') {
			continue
		}
		if !p.byte('}') {
			return "", nil, false
		}
		break
	}
	p.space()
	if p.i != len(b) {
		return "", nil, false
	}
	return path, ctx, true
}

// evalParser reads JSON from b at i.
type evalParser struct {
	b []byte
	i int
}

func (p *evalParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *evalParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// byte skips space and then c, reporting whether c was there.
func (p *evalParser) byte(c byte) bool {
	p.space()
	if p.peek() != c {
		return false
	}
	p.i++
	return true
}

func (p *evalParser) literal(s string) bool {
	if !strings.HasPrefix(string(p.b[p.i:]), s) {
		return false
	}
	p.i += len(s)
	return true
}

// str reads a string without escapes, after space.
func (p *evalParser) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !utf8.Valid(s) {
				return "", false
			}
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		}
		p.i++
	}
	return "", false
}

// object reads null or an object of scalar members, after space; null is
// an empty context, as encoding/json leaves a nil map for it.
func (p *evalParser) object() (flag.Context, bool) {
	p.space()
	if p.peek() == 'n' {
		return nil, p.literal("null")
	}
	if !p.byte('{') {
		return nil, false
	}
	ctx := make(flag.Context, 8)
	if p.byte('}') {
		return ctx, true
	}
	for {
		key, ok := p.str()
		if !ok || !p.byte(':') {
			return nil, false
		}
		v, ok := p.scalar()
		if !ok {
			return nil, false
		}
		ctx[key] = v
		if p.byte(',') {
			continue
		}
		return ctx, p.byte('}')
	}
}

// scalar reads a string, number, true, false or null, after space.
func (p *evalParser) scalar() (any, bool) {
	p.space()
	switch c := p.peek(); {
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	}
	return nil, false
}

// number reads a JSON number as float64, as encoding/json decodes numbers
// into interface values.
func (p *evalParser) number() (any, bool) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	switch {
	case p.peek() == '0':
		p.i++
	case '1' <= p.peek() && p.peek() <= '9':
		p.digits()
	default:
		return nil, false
	}
	if p.peek() == '.' {
		p.i++
		if !p.digits() {
			return nil, false
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if !p.digits() {
			return nil, false
		}
	}
	f, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	return f, err == nil
}

// digits reads one or more digits.
func (p *evalParser) digits() bool {
	start := p.i
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}
