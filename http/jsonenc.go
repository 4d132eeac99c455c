package http

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"unicode/utf8"
)

// The responses of the hot read paths (a parameter by GET or SSM
// GetParameter, flag evaluations native and OFREP) encode themselves by
// appending to a pooled buffer instead of going through encoding/json's
// reflection, which took about half of a bulk evaluation's time. They
// produce exactly the bytes json.Marshal does: jsonenc_test.go compares
// the two on generated and fuzzed values. Anything unusual in a value
// (maps, arrays, floats in exponent form) is still encoded by
// encoding/json.

// jsonAppender is a response that appends its own JSON encoding to b.
type jsonAppender interface {
	appendJSON(b []byte) ([]byte, error)
}

// marshal encodes v as json.Marshal does, appended to b, through v's
// appendJSON when it has one.
func marshal(b []byte, v any) ([]byte, error) {
	if a, ok := v.(jsonAppender); ok {
		return a.appendJSON(b)
	}
	enc, err := json.Marshal(v)
	return append(b, enc...), err
}

// responseBuffers recycles response bodies; a buffer that grew beyond
// maxPooledBuffer is left to the garbage collector.
var responseBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledBuffer = 64 << 10

func getBuffer() *[]byte { return responseBuffers.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooledBuffer {
		*b = (*b)[:0]
		responseBuffers.Put(b)
	}
}

const hexDigits = "0123456789abcdef"

// jsonSafe holds the ASCII bytes a JSON string carries as they are.
var jsonSafe = func() (safe [utf8.RuneSelf]bool) {
	for c := byte(0x20); c < utf8.RuneSelf; c++ {
		safe[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return safe
}()

// appendString appends s as a JSON string, escaped as encoding/json
// escapes it by default (HTML-safe: <, > and & as \u003c, \u003e, \u0026;
// invalid UTF-8 as \ufffd; U+2028 and U+2029 escaped).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendValue appends v as json.Marshal encodes it: the scalar types of
// flag values and metadata directly, anything else through encoding/json.
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case string:
		return appendString(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case float64:
		// encoding/json writes floats in 'f' form unless tiny or huge.
		if abs := math.Abs(v); abs == 0 || abs >= 1e-6 && abs < 1e21 {
			return strconv.AppendFloat(b, v, 'f', -1, 64), nil
		}
	}
	enc, err := json.Marshal(v)
	return append(b, enc...), err
}

// appendRaw appends a stored JSON document as encoding/json writes a
// json.Marshaler's output: validated and compacted.
func appendRaw(b []byte, raw string) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	err := json.Compact(buf, []byte(raw))
	return buf.Bytes(), err
}

// jsonObject appends the members of one JSON object, tracking the commas.
type jsonObject struct {
	b    []byte
	more bool
}

func newObject(b []byte) jsonObject { return jsonObject{b: append(b, '{')} }

// key appends a member name, which must need no escaping.
func (o *jsonObject) key(name string) {
	if o.more {
		o.b = append(o.b, ',')
	}
	o.more = true
	o.b = append(o.b, '"')
	o.b = append(o.b, name...)
	o.b = append(o.b, '"', ':')
}

func (o *jsonObject) str(name, v string) {
	o.key(name)
	o.b = appendString(o.b, v)
}

// strOmit is str for a member tagged omitempty.
func (o *jsonObject) strOmit(name, v string) {
	if v != "" {
		o.str(name, v)
	}
}

func (o *jsonObject) int(name string, v int64) {
	o.key(name)
	o.b = strconv.AppendInt(o.b, v, 10)
}

func (o *jsonObject) value(name string, v any) error {
	o.key(name)
	var err error
	o.b, err = appendValue(o.b, v)
	return err
}

func (o *jsonObject) end() []byte { return append(o.b, '}') }

// The appenders below follow their types' json tags; keep them in step
// (TestAppendersMatchEncodingJSON fails when they differ).

func (p *parameterJSON) appendJSON(b []byte) ([]byte, error) {
	o := newObject(b)
	o.str("name", p.Name)
	o.strOmit("type", p.Type)
	o.strOmit("value", p.Value)
	if p.Version != 0 {
		o.int("version", p.Version)
	}
	if len(p.Labels) > 0 {
		o.key("labels")
		o.b = append(o.b, '[')
		for i, l := range p.Labels {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = appendString(o.b, l)
		}
		o.b = append(o.b, ']')
	}
	o.strOmit("tier", p.Tier)
	o.strOmit("description", p.Description)
	o.strOmit("allowed_pattern", p.AllowedPattern)
	o.strOmit("data_type", p.DataType)
	o.strOmit("key_id", p.KeyID)
	o.strOmit("last_modified", p.LastModified)
	o.strOmit("last_modified_user", p.LastModifiedUser)
	o.strOmit("selector", p.Selector)
	if p.Policies != "" {
		o.key("policies")
		var err error
		if o.b, err = appendRaw(o.b, string(p.Policies)); err != nil {
			return o.b, err
		}
	}
	return o.end(), nil
}

func (e *evaluationJSON) appendJSON(b []byte) ([]byte, error) {
	o := newObject(b)
	o.str("name", e.Name)
	if err := o.value("value", e.Value); err != nil {
		return o.b, err
	}
	o.strOmit("variant", e.Variant)
	o.str("reason", string(e.Reason))
	o.strOmit("rule", e.Rule)
	if len(e.Metadata) > 0 {
		if err := o.value("metadata", e.Metadata); err != nil {
			return o.b, err
		}
	}
	o.int("version", e.Version)
	o.strOmit("error_code", e.ErrorCode)
	o.strOmit("error_message", e.ErrorMessage)
	return o.end(), nil
}

func (r *bulkEvaluationJSON) appendJSON(b []byte) ([]byte, error) {
	o := newObject(b)
	o.str("path", r.Path)
	o.key("flags")
	var err error
	if r.each != nil {
		e := new(evaluationJSON)
		o.b, err = appendEach(o.b, r.n, func(b []byte, i int) ([]byte, error) {
			r.each(i, e)
			return e.appendJSON(b)
		})
	} else {
		o.b, err = appendList(o.b, r.Flags)
	}
	return o.end(), err
}

// appendList appends a list of appenders as a JSON array, nil as null.
func appendList[T jsonAppender](b []byte, list []T) ([]byte, error) {
	if list == nil {
		return append(b, "null"...), nil
	}
	return appendEach(b, len(list), func(b []byte, i int) ([]byte, error) { return list[i].appendJSON(b) })
}

// appendEach appends a JSON array of n elements, each appended by elem.
func appendEach(b []byte, n int, elem func(b []byte, i int) ([]byte, error)) ([]byte, error) {
	b = append(b, '[')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = elem(b, i); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func (e *ofrepEvaluation) appendJSON(b []byte) ([]byte, error) {
	o := newObject(b)
	o.str("key", e.Key)
	if e.Value != nil {
		if err := o.value("value", e.Value); err != nil {
			return o.b, err
		}
	}
	o.strOmit("reason", e.Reason)
	o.strOmit("variant", e.Variant)
	if len(e.Metadata) > 0 {
		if err := o.value("metadata", e.Metadata); err != nil {
			return o.b, err
		}
	}
	o.strOmit("errorCode", e.ErrorCode)
	o.strOmit("errorDetails", e.ErrorDetails)
	return o.end(), nil
}

func (r *ofrepBulkResponse) appendJSON(b []byte) ([]byte, error) {
	o := newObject(b)
	o.key("flags")
	var err error
	if r.each != nil {
		e := new(ofrepEvaluation)
		o.b, err = appendEach(o.b, r.n, func(b []byte, i int) ([]byte, error) {
			r.each(i, e)
			return e.appendJSON(b)
		})
	} else {
		o.b, err = appendList(o.b, r.Flags)
	}
	if err != nil {
		return o.b, err
	}
	if len(r.EventStreams) > 0 {
		if err := o.value("eventStreams", r.EventStreams); err != nil {
			return o.b, err
		}
	}
	return o.end(), nil
}

func (p *ssmParameter) appendJSON(b []byte) ([]byte, error) {
	o := newObject(b)
	o.str("Name", p.Name)
	o.strOmit("Type", p.Type)
	o.str("Value", p.Value)
	if p.Version != 0 {
		o.int("Version", p.Version)
	}
	o.strOmit("Selector", p.Selector)
	o.strOmit("SourceResult", p.SourceResult)
	if !p.LastModifiedDate.IsZero() {
		o.key("LastModifiedDate")
		o.b, _ = p.LastModifiedDate.appendJSON(o.b)
	}
	o.strOmit("ARN", p.ARN)
	o.strOmit("DataType", p.DataType)
	return o.end(), nil
}

func (r *ssmGetParameterResponse) appendJSON(b []byte) ([]byte, error) {
	o := newObject(b)
	o.key("Parameter")
	if r.Parameter == nil {
		o.b = append(o.b, "null"...)
		return o.end(), nil
	}
	var err error
	o.b, err = r.Parameter.appendJSON(o.b)
	return o.end(), err
}
