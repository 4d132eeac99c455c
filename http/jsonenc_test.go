package http

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane/flag"
)

// tricky strings exercise every escaping rule of encoding/json.
var tricky = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rcr",
	"\b\f\x00\x01\x1f\x7f", "é ü 日本 🚀", "\u2028 and \u2029", "bad \xff utf8 \xc3", "/myapp/prod/features/new-checkout",
	`{"enabled": true, "rollout_percentage": 25}`,
}

// equalJSON fails unless v's appender writes exactly what json.Marshal
// writes.
func equalJSON(t *testing.T, v jsonAppender) {
	t.Helper()
	want, werr := json.Marshal(v)
	got, gerr := v.appendJSON([]byte("prefix"))
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%#v: error %v, encoding/json's %v", v, gerr, werr)
	}
	if werr != nil {
		return
	}
	if !bytes.HasPrefix(got, []byte("prefix")) || !bytes.Equal(got[len("prefix"):], want) {
		t.Fatalf("%#v:\n got %s\nwant %s", v, got, want)
	}
}

// sameBytes fails unless two appenders write the same bytes.
func sameBytes(t *testing.T, a, b jsonAppender) {
	t.Helper()
	x, errA := a.appendJSON(nil)
	y, errB := b.appendJSON(nil)
	if (errA != nil) != (errB != nil) || !bytes.Equal(x, y) {
		t.Fatalf("one at a time:\n got %s (%v)\nwant %s (%v)", y, errB, x, errA)
	}
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// TestAppendersMatchEncodingJSON compares each hand-written encoder with
// encoding/json on generated values, zero values and every tricky string.
func TestAppendersMatchEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	values := []any{nil, true, false, "on", "a<b", 0.0, 1.0, -2.5, 1e-7, 1e21, 123456789.0, 3, int64(-4),
		map[string]any{"b": 1.0, "a": []any{"x", nil}}, []any{1.0, "two"}}
	metadata := []map[string]any{nil, {}, {"owner": "team-a", "ticket": 42.0, "nested": map[string]any{"x": true}}}
	for range 2000 {
		equalJSON(t, &parameterJSON{
			Name: pick(r, tricky), Type: pick(r, []string{"", "String", "SecureString"}), Value: pick(r, tricky),
			Version: pick(r, []int64{0, 1, 42}), Labels: pick(r, [][]string{nil, {}, {"prod", "a&b"}}),
			Tier: pick(r, []string{"", "Standard"}), Description: pick(r, tricky), AllowedPattern: pick(r, []string{"", `^\d+$`}),
			DataType: pick(r, []string{"", "text"}), KeyID: pick(r, []string{"", "alias/x"}), LastModified: pick(r, []string{"", "2026-12-02T10:00:00.123Z"}),
			LastModifiedUser: pick(r, tricky), Selector: pick(r, []string{"", ":3"}),
			Policies: pick(r, []jsonRawMessage{"", `[{"Type":"Expiration"}]`, "[ {\"Type\" : \"x\"} ]", `[not json`}),
		})
		e := &evaluationJSON{Name: pick(r, tricky), Value: pick(r, values), Variant: pick(r, []string{"", "on", "blue<"}),
			Reason: pick(r, []flag.Reason{flag.ReasonStatic, flag.ReasonError, ""}), Rule: pick(r, tricky),
			Metadata: pick(r, metadata), Version: pick(r, []int64{0, 7}), ErrorCode: pick(r, []string{"", "PARSE_ERROR"}), ErrorMessage: pick(r, tricky)}
		equalJSON(t, e)
		bulk := &bulkEvaluationJSON{Path: pick(r, tricky), Flags: pick(r, [][]*evaluationJSON{nil, {}, {e, e}})}
		equalJSON(t, bulk)
		if bulk.Flags != nil { // the same list produced one at a time
			sameBytes(t, bulk, &bulkEvaluationJSON{Path: bulk.Path, n: len(bulk.Flags), each: func(i int, out *evaluationJSON) { *out = *bulk.Flags[i] }})
		}
		o := &ofrepEvaluation{Key: pick(r, tricky), Value: pick(r, values), Reason: pick(r, []string{"", "STATIC"}),
			Variant: pick(r, []string{"", "off"}), Metadata: pick(r, metadata), ErrorCode: pick(r, []string{"", "GENERAL"}), ErrorDetails: pick(r, tricky)}
		equalJSON(t, o)
		ob := &ofrepBulkResponse{Flags: pick(r, [][]*ofrepEvaluation{nil, {}, {o, o}}),
			EventStreams: pick(r, [][]ofrepEventStream{nil, {{Type: "sse", URL: "http://h/ofrep/v1/events", InactivityDelaySec: 120}}})}
		equalJSON(t, ob)
		if ob.Flags != nil {
			sameBytes(t, ob, &ofrepBulkResponse{EventStreams: ob.EventStreams, n: len(ob.Flags), each: func(i int, out *ofrepEvaluation) { *out = *ob.Flags[i] }})
		}
		p := &ssmParameter{Name: pick(r, tricky), Type: pick(r, []string{"", "String"}), Value: pick(r, tricky),
			Version: pick(r, []int64{0, 3}), Selector: pick(r, []string{"", ":prod"}), SourceResult: pick(r, []string{"", "x"}),
			LastModifiedDate: epochTime(pick(r, []time.Time{{}, time.UnixMilli(1764669600123), time.Unix(1764669600, 0)})),
			ARN:              pick(r, []string{"", "arn:aws:ssm:us-east-1:000000000000:parameter/x"}), DataType: pick(r, []string{"", "text"})}
		equalJSON(t, p)
		equalJSON(t, &ssmGetParameterResponse{Parameter: pick(r, []*ssmParameter{nil, p})})
	}
}

// FuzzAppendString checks string escaping against encoding/json.
func FuzzAppendString(f *testing.F) {
	for _, s := range tricky {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

// FuzzAppendValue checks numbers against encoding/json.
func FuzzAppendValue(f *testing.F) {
	for _, v := range []float64{0, 1, -1, 0.1, 1e-6, 9.99e-7, 1e20, 1e21, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1)} {
		f.Add(v, int64(v))
	}
	f.Fuzz(func(t *testing.T, x float64, n int64) {
		for _, v := range []any{x, n, int(n)} {
			want, werr := json.Marshal(v)
			got, gerr := appendValue(nil, v)
			if (werr != nil) != (gerr != nil) || werr == nil && !bytes.Equal(got, want) {
				t.Fatalf("appendValue(%v) = %s, %v; want %s, %v", v, got, gerr, want, werr)
			}
		}
	})
}

// TestPooledBuffersAreNotShared checks that a response written from a
// pooled buffer is not changed by the next response that reuses it.
func TestPooledBuffersAreNotShared(t *testing.T) {
	var first, second bytes.Buffer
	w1, w2 := &recorder{body: &first}, &recorder{body: &second}
	writeJSON(w1, 200, &evaluationJSON{Name: strings.Repeat("a", 100)})
	writeJSON(w2, 200, &evaluationJSON{Name: strings.Repeat("b", 100)})
	if strings.Contains(first.String(), "b") || !strings.Contains(second.String(), "bbb") {
		t.Fatalf("responses share a buffer:\n%s\n%s", first.String(), second.String())
	}
}

// recorder is a ResponseWriter copying the body, as net/http does.
type recorder struct {
	header http.Header
	body   *bytes.Buffer
}

func (r *recorder) Header() http.Header {
	if r.header == nil {
		r.header = http.Header{}
	}
	return r.header
}
func (r *recorder) WriteHeader(int)             {}
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }
