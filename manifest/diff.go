package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vanehq/vane"
)

// Kind is what a Change does to a parameter.
type Kind int

// Kinds of Change.
const (
	Unchanged Kind = iota
	Added
	Changed
	Removed // only in the current tree, and pruned
	Kept    // only in the current tree, not pruned
)

// Change is the difference of one parameter between the current tree and
// the desired one.
type Change struct {
	Name     string // relative
	Kind     Kind
	From, To *Entry // From nil when added, To nil when removed or kept
	// Fields names what differs, for Changed: value, flag, type,
	// description, tags, labels, tier, allowed_pattern, data_type,
	// key_id, policies.
	Fields []string
	// Blocked, when set, says why the change can't be written.
	Blocked string
}

// Diff is the comparison of two trees, by relative name.
type Diff struct {
	Changes                                  []Change // in name order
	Added, Changed, Removed, Unchanged, Kept int
	// Blocked counts the changes that can't be written.
	Blocked int
}

// Empty reports whether applying the diff writes nothing.
func (d *Diff) Empty() bool { return d.Added+d.Changed+d.Removed == 0 }

// Compare compares the current tree (an export, with versions) with the
// desired one, by relative name; with prune, what only the current tree
// has is Removed, otherwise Kept.
func Compare(current, desired *File, prune bool) *Diff {
	d := &Diff{}
	names := map[string]bool{}
	for n := range current.Parameters {
		names[n] = true
	}
	for n := range desired.Parameters {
		names[n] = true
	}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		from, to := current.Parameters[n], desired.Parameters[n]
		c := Change{Name: n, From: from, To: to}
		switch {
		case from == nil:
			c.Kind = Added
			if _, ok := to.content(); !ok {
				c.Blocked = "a SecureString is created only from its plaintext: give its \"value\""
			}
		case to == nil && prune:
			c.Kind = Removed
		case to == nil:
			c.Kind = Kept
		default:
			c.Fields, c.Blocked = compareEntries(from, to)
			if len(c.Fields) > 0 {
				c.Kind = Changed
			}
		}
		switch c.Kind {
		case Added:
			d.Added++
		case Changed:
			d.Changed++
		case Removed:
			d.Removed++
		case Kept:
			d.Kept++
		default:
			d.Unchanged++
		}
		if c.Blocked != "" {
			d.Blocked++
		}
		d.Changes = append(d.Changes, c)
	}
	return d
}

// compareEntries returns the fields in which two entries of one name
// differ and, if the difference can't be written, why.
func compareEntries(from, to *Entry) (fields []string, blocked string) {
	differ := func(field string, ne bool) {
		if ne {
			fields = append(fields, field)
		}
	}
	differ("type", from.Type != to.Type)
	secure := to.Type == string(vane.TypeSecureString)
	valueUnknown := false
	switch {
	case to.Placeholder():
		// The store's value is kept.
	case to.Sealed != "" && from.Sealed != "":
		differ("value", to.Sealed != from.Sealed)
		if to.Sealed != from.Sealed {
			blocked = "its sealed value is not the store's, and a sealed value can't be written: give its plaintext as \"value\", or drop \"sealed\" to keep the store's value"
		}
	case to.Sealed != "":
		valueUnknown = true
		blocked = "a sealed value can't be compared with a value read with decryption"
	default:
		fv, _ := from.content()
		tv, _ := to.content()
		if to.Flag != nil || from.Flag != nil {
			differ("flag", canonicalJSON(fv) != canonicalJSON(tv))
		} else {
			differ("value", fv != tv)
		}
	}
	differ("description", from.Description != to.Description)
	differ("tier", or(from.Tier, string(vane.TierStandard)) != or(to.Tier, string(vane.TierStandard)))
	differ("allowed_pattern", from.AllowedPattern != to.AllowedPattern)
	differ("data_type", or(from.DataType, vane.DataTypeText) != or(to.DataType, vane.DataTypeText))
	if secure {
		differ("key_id", or(from.KeyID, vane.DefaultKeyID) != or(to.KeyID, vane.DefaultKeyID))
	}
	differ("policies", canonicalJSON(or(string(from.Policies), "[]")) != canonicalJSON(or(string(to.Policies), "[]")))
	differ("tags", !maps.Equal(from.Tags, to.Tags))
	differ("labels", !slices.Equal(sortedCopy(from.Labels), sortedCopy(to.Labels)))
	if blocked == "" && !valueUnknown && needsPut(fields) {
		if _, ok := to.content(); !ok {
			blocked = "changing a SecureString's " + strings.Join(putFields(fields), ", ") + " writes a new version, which needs its plaintext: give its \"value\""
		}
	}
	return fields, blocked
}

// needsPut reports whether changing fields writes a new version (anything
// but tags and labels).
func needsPut(fields []string) bool { return len(putFields(fields)) > 0 }

func putFields(fields []string) []string {
	var out []string
	for _, f := range fields {
		if f != "tags" && f != "labels" {
			out = append(out, f)
		}
	}
	return out
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func sortedCopy(l []string) []string {
	c := slices.Clone(l)
	slices.Sort(c)
	return c
}

// canonicalJSON returns JSON text with object keys sorted and no space, so
// that documents that mean the same compare equal; text that is not JSON
// is returned as it is.
func canonicalJSON(s string) string {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return s
	}
	return string(b)
}

// Write is one item of POST /v1/batch.
type Write struct {
	Op             string            `json:"op"`
	Name           string            `json:"name"`
	Value          *string           `json:"value,omitempty"`
	Type           string            `json:"type,omitempty"`
	Description    *string           `json:"description,omitempty"`
	AllowedPattern *string           `json:"allowed_pattern,omitempty"`
	Tier           string            `json:"tier,omitempty"`
	DataType       string            `json:"data_type,omitempty"`
	KeyID          string            `json:"key_id,omitempty"`
	Overwrite      bool              `json:"overwrite,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
	ExpectVersion  *int64            `json:"expect_version,omitempty"`
	Policies       json.RawMessage   `json:"policies,omitempty"`
	Version        int64             `json:"version,omitempty"`
	Labels         []string          `json:"labels,omitempty"`
	Keys           []string          `json:"keys,omitempty"`
}

// BlockedError is the error of Plan for a diff with changes that can't be
// written.
type BlockedError struct{ Changes []Change }

func (e *BlockedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d change(s) can't be written, so nothing was: ", len(e.Changes))
	for i, c := range e.Changes {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", c.Name, c.Blocked)
	}
	return b.String()
}

// Plan returns the batch items that apply a diff under the canonical path
// dst: per name in order, a put (expect_version: the version compared
// against, 0 for a new name), then tag and untag, unlabel and label; a
// delete for each removed name. Each put states every field, so the
// result does not depend on what the store would otherwise keep. It fails
// with a *BlockedError if any change can't be written.
func Plan(d *Diff, dst string) ([]Write, error) {
	var blocked []Change
	for _, c := range d.Changes {
		if c.Blocked != "" && c.Kind != Unchanged {
			blocked = append(blocked, c)
		}
	}
	if len(blocked) > 0 {
		return nil, &BlockedError{Changes: blocked}
	}
	var out []Write
	for _, c := range d.Changes {
		name := Join(dst, c.Name)
		switch c.Kind {
		case Added:
			w := put(name, c.To)
			w.ExpectVersion = new(int64)
			w.Tags = c.To.Tags
			out = append(out, w)
			if len(c.To.Labels) > 0 {
				out = append(out, Write{Op: string(vane.BatchLabel), Name: name, Labels: sortedCopy(c.To.Labels)})
			}
		case Removed:
			out = append(out, Write{Op: string(vane.BatchDelete), Name: name, ExpectVersion: &c.From.Version})
		case Changed:
			out = append(out, planChange(name, &c)...)
		}
	}
	return out, nil
}

// put returns the put of an entry, every field stated.
func put(name string, e *Entry) Write {
	v, _ := e.content()
	desc, pattern := e.Description, e.AllowedPattern
	w := Write{Op: string(vane.BatchPut), Name: name, Value: &v, Type: e.Type, Description: &desc, AllowedPattern: &pattern,
		Tier: or(e.Tier, string(vane.TierStandard)), DataType: or(e.DataType, vane.DataTypeText)}
	if e.Type == string(vane.TypeSecureString) {
		w.KeyID = or(e.KeyID, vane.DefaultKeyID)
	}
	if e.Policies != nil {
		w.Policies = json.RawMessage(e.Policies)
	}
	return w
}

func planChange(name string, c *Change) []Write {
	var out []Write
	from, to := c.From, c.To
	wrote := needsPut(c.Fields)
	if wrote {
		w := put(name, to)
		w.Overwrite, w.ExpectVersion = true, &from.Version
		if to.Policies == nil && from.Policies != nil {
			w.Policies = json.RawMessage("[]")
		}
		out = append(out, w)
	}
	var set map[string]string
	var unset []string
	for k, v := range to.Tags {
		if old, ok := from.Tags[k]; !ok || old != v {
			if set == nil {
				set = map[string]string{}
			}
			set[k] = v
		}
	}
	for _, k := range slices.Sorted(maps.Keys(from.Tags)) {
		if _, ok := to.Tags[k]; !ok {
			unset = append(unset, k)
		}
	}
	if set != nil {
		out = append(out, Write{Op: string(vane.BatchTag), Name: name, Tags: set})
	}
	if unset != nil {
		out = append(out, Write{Op: string(vane.BatchUntag), Name: name, Keys: unset})
	}
	var drop, add []string
	for _, l := range sortedCopy(from.Labels) {
		if !slices.Contains(to.Labels, l) {
			drop = append(drop, l)
		}
	}
	for _, l := range sortedCopy(to.Labels) {
		// A new version carries no label: every label is moved to it.
		if wrote || !slices.Contains(from.Labels, l) {
			add = append(add, l)
		}
	}
	if drop != nil {
		out = append(out, Write{Op: string(vane.BatchUnlabel), Name: name, Version: from.Version, Labels: drop})
	}
	if add != nil {
		w := Write{Op: string(vane.BatchLabel), Name: name, Labels: add}
		if !wrote {
			w.Version = from.Version
		}
		out = append(out, w)
	}
	return out
}

// PrintOptions tune Print.
type PrintOptions struct {
	// Unchanged lists unchanged parameters too.
	Unchanged bool
}

// maxShown is how many characters of a value Print shows.
const maxShown = 60

// Print writes a diff for people: a line per parameter added (+),
// changed (~), removed (-) or only in the store (?), a line diff of each
// changed flag document, the old and new values of other changed values
// (never a SecureString's), and the counts.
func Print(w io.Writer, d *Diff, o PrintOptions) error {
	var b bytes.Buffer
	for _, c := range d.Changes {
		switch c.Kind {
		case Unchanged:
			if o.Unchanged {
				fmt.Fprintf(&b, "  %s\n", c.Name)
			}
		case Added:
			fmt.Fprintf(&b, "+ %s (%s)%s\n", c.Name, c.To.Type, blockedNote(c))
		case Removed:
			fmt.Fprintf(&b, "- %s (%s)\n", c.Name, c.From.Type)
		case Kept:
			fmt.Fprintf(&b, "? %s (%s): only in the store, kept (--prune removes it)\n", c.Name, c.From.Type)
		case Changed:
			fmt.Fprintf(&b, "~ %s: %s%s\n", c.Name, strings.Join(c.Fields, ", "), blockedNote(c))
			printFields(&b, &c)
		}
	}
	fmt.Fprintf(&b, "%d added, %d changed, %d removed, %d unchanged", d.Added, d.Changed, d.Removed, d.Unchanged)
	if d.Kept > 0 {
		fmt.Fprintf(&b, ", %d only in the store (kept)", d.Kept)
	}
	b.WriteString("\n")
	_, err := w.Write(b.Bytes())
	return err
}

func blockedNote(c Change) string {
	if c.Blocked == "" {
		return ""
	}
	return " [can't be written: " + c.Blocked + "]"
}

// printFields writes the details of a changed parameter.
func printFields(b *bytes.Buffer, c *Change) {
	secret := c.From.Type == string(vane.TypeSecureString) || c.To.Type == string(vane.TypeSecureString)
	for _, f := range c.Fields {
		switch f {
		case "flag":
			fv, _ := c.From.content()
			tv, _ := c.To.content()
			for _, l := range LineDiff(Pretty(fv), Pretty(tv)) {
				fmt.Fprintf(b, "    %s\n", l)
			}
		case "value":
			if secret {
				fmt.Fprintf(b, "    value: (SecureString, not shown)\n")
				continue
			}
			fv, _ := c.From.content()
			tv, _ := c.To.content()
			fmt.Fprintf(b, "    value: %s -> %s\n", shown(fv), shown(tv))
		case "description":
			fmt.Fprintf(b, "    description: %s -> %s\n", shown(c.From.Description), shown(c.To.Description))
		case "tags":
			fmt.Fprintf(b, "    tags: %s -> %s\n", tagsText(c.From.Tags), tagsText(c.To.Tags))
		case "labels":
			fmt.Fprintf(b, "    labels: [%s] -> [%s]\n", strings.Join(sortedCopy(c.From.Labels), " "), strings.Join(sortedCopy(c.To.Labels), " "))
		}
	}
}

func tagsText(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// shown quotes a value for a line of the diff, cut to maxShown characters.
func shown(s string) string {
	if utf8.RuneCountInString(s) > maxShown {
		s = string([]rune(s)[:maxShown-3]) + "..."
	}
	return fmt.Sprintf("%q", s)
}

// Pretty returns a JSON document indented, in its own key order.
func Pretty(s string) string {
	var b bytes.Buffer
	if json.Indent(&b, []byte(s), "", "  ") != nil {
		return s
	}
	return b.String()
}

// maxDiffLines bounds the documents LineDiff compares line by line.
const maxDiffLines = 2000

// LineDiff returns a line diff of two texts: each line of the longest
// common subsequence prefixed "  ", removed lines "- ", added lines "+ ";
// runs of more than 3 unchanged lines away from a change are elided as
// "...".
func LineDiff(a, b string) []string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(x) > maxDiffLines || len(y) > maxDiffLines {
		return []string{"(documents too long to compare line by line)"}
	}
	// lcs[i][j] is the length of the LCS of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var all []string
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			all = append(all, "  "+x[i])
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			// Removed lines before added ones, as diff(1) prints them.
			all = append(all, "- "+x[i])
			i++
		default:
			all = append(all, "+ "+y[j])
			j++
		}
	}
	const context = 3
	near := make([]bool, len(all))
	for k, l := range all {
		if l[0] != ' ' {
			for m := max(0, k-context); m <= min(len(all)-1, k+context); m++ {
				near[m] = true
			}
		}
	}
	var out []string
	for k, l := range all {
		switch {
		case near[k]:
			out = append(out, l)
		case len(out) == 0 || out[len(out)-1] != "...":
			out = append(out, "...")
		}
	}
	return out
}
