// Package manifest is the file format of Vane's configuration as code: a
// subtree of parameters as one YAML or JSON document meant to live in git,
// and what `vane export`, `vane import`, `vane diff` and `vane promote`
// (and later the importers from other tools) do with it: read and write
// the file, compare two trees, and plan the writes that make a store match
// a file, as the items of one atomic batch (POST /v1/batch).
//
// The package is pure: it does no I/O and knows the store only through the
// shapes of the export it reads (Parameter) and the batch items it plans
// (Write), so it is tested without a server.
//
// # The format
//
// A file holds a format version, the path it was exported from, and the
// parameters under it by name relative to that path (so a tree exported
// from /app/staging imports under /app/prod unchanged). Each has its type
// and either a value or, for a flag, its document as a YAML or JSON object
// (a flag's value is JSON text; as an object it diffs line by line in a
// pull request, where an escaped string would be one long line). Fields at
// their defaults are left out, so a file shows only decisions. Keys are
// sorted (parameters by name, tags by key) and a flag document keeps the
// order of its stored text, so exporting an unchanged store twice gives
// the same bytes.
//
// A SecureString carries its stored, sealed value under "sealed" (only the
// store whose keyring sealed it can open it, and comparing it tells
// whether the value changed), nothing (a placeholder: "keep the store's
// value"), or, when exported with decryption, its plaintext as "value".
//
// # Applying a file
//
// Compare lines up the current tree (an export) and the file by relative
// name; Plan turns the differences into batch items, each put and delete
// with the version it was compared against as expect_version, so a change
// made meanwhile makes the whole batch fail and nothing is written. Labels
// and tags have no compare-and-set in a batch: a label is moved to the
// version that was read (or to the new version the batch's put makes).
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/flag"
)

// FormatVersion is the version of the file format this package writes and
// reads.
const FormatVersion = 1

// Formats of Marshal.
const (
	YAML = "yaml"
	JSON = "json"
)

// File is a tree of parameters.
type File struct {
	Version int `json:"version" yaml:"version"`
	// Path is the canonical path the parameters are relative to, such as
	// "/app/prod/".
	Path       string            `json:"path" yaml:"path"`
	Parameters map[string]*Entry `json:"parameters" yaml:"parameters"`
}

// Entry is one parameter of a File: the latest version's type, content
// and metadata, with the parameter's tags.
type Entry struct {
	Type string `json:"type" yaml:"type"`
	// Value is the value; nil for a flag given as Flag and for a
	// SecureString given sealed or as a placeholder.
	Value *string `json:"value,omitempty" yaml:"value,omitempty"`
	// Flag is a flag's document (or true/false), for flag names only.
	Flag Document `json:"flag,omitempty" yaml:"flag,omitempty"`
	// Sealed is a SecureString's stored, sealed value.
	Sealed         string            `json:"sealed,omitempty" yaml:"sealed,omitempty"`
	Description    string            `json:"description,omitempty" yaml:"description,omitempty"`
	Tags           map[string]string `json:"tags,omitempty" yaml:"tags,omitempty"`
	Labels         []string          `json:"labels,omitempty" yaml:"labels,omitempty"`
	Tier           string            `json:"tier,omitempty" yaml:"tier,omitempty"`
	AllowedPattern string            `json:"allowed_pattern,omitempty" yaml:"allowed_pattern,omitempty"`
	DataType       string            `json:"data_type,omitempty" yaml:"data_type,omitempty"`
	KeyID          string            `json:"key_id,omitempty" yaml:"key_id,omitempty"`
	// Policies are the SSM parameter policies, a JSON array.
	Policies Document `json:"policies,omitempty" yaml:"policies,omitempty"`

	// Version is the store's version of the parameter when the entry
	// comes from an export, for compare-and-set; never in a file.
	Version int64 `json:"-" yaml:"-"`
}

// Placeholder reports whether e is a SecureString without a value: the
// store's value is kept.
func (e *Entry) Placeholder() bool {
	return e.Type == string(vane.TypeSecureString) && e.Value == nil && e.Sealed == ""
}

// content returns the value a put of e writes, and whether e has one.
func (e *Entry) content() (string, bool) {
	switch {
	case e.Value != nil:
		return *e.Value, true
	case e.Flag != nil:
		return string(e.Flag), true
	}
	return "", false
}

// Secret modes of FromExport: what a SecureString's entry carries.
type SecretMode int

const (
	// Sealed exports the stored, sealed value.
	Sealed SecretMode = iota
	// Placeholder exports no value.
	Placeholder
	// Plaintext exports the value as read with decryption.
	Plaintext
)

// Parameter is one parameter of GET /v1/export, as the server sends it.
type Parameter struct {
	Name           string            `json:"name"`
	Type           string            `json:"type"`
	Value          string            `json:"value"`
	Version        int64             `json:"version"`
	Labels         []string          `json:"labels"`
	Tier           string            `json:"tier"`
	Description    string            `json:"description"`
	AllowedPattern string            `json:"allowed_pattern"`
	DataType       string            `json:"data_type"`
	KeyID          string            `json:"key_id"`
	Policies       json.RawMessage   `json:"policies"`
	Tags           map[string]string `json:"tags"`
}

// Export is the body of GET /v1/export.
type Export struct {
	Path       string      `json:"path"`
	Sequence   int64       `json:"sequence"`
	Parameters []Parameter `json:"parameters"`
}

// FromExport returns the tree of an export: each parameter under its name
// relative to the export's path, its SecureString values as mode says
// (Plaintext only for an export read with decryption).
func FromExport(x *Export, mode SecretMode) (*File, error) {
	path, err := vane.ValidatePath(x.Path)
	if err != nil {
		return nil, err
	}
	f := &File{Version: FormatVersion, Path: path, Parameters: make(map[string]*Entry, len(x.Parameters))}
	for i := range x.Parameters {
		p := &x.Parameters[i]
		rel, ok := Relative(path, p.Name)
		if !ok {
			return nil, fmt.Errorf("the export of %s holds %s, which is not under it", path, p.Name)
		}
		e := &Entry{Type: p.Type, Description: p.Description, Tags: p.Tags, Labels: p.Labels, Version: p.Version,
			AllowedPattern: p.AllowedPattern}
		if len(e.Tags) == 0 {
			e.Tags = nil
		}
		if len(e.Labels) == 0 {
			e.Labels = nil
		}
		if p.Tier != "" && p.Tier != string(vane.TierStandard) {
			e.Tier = p.Tier
		}
		if p.DataType != "" && p.DataType != vane.DataTypeText {
			e.DataType = p.DataType
		}
		if p.KeyID != "" && p.KeyID != vane.DefaultKeyID {
			e.KeyID = p.KeyID
		}
		if len(p.Policies) > 0 && !bytes.Equal(bytes.TrimSpace(p.Policies), []byte("[]")) {
			if e.Policies, err = policiesDocument(p.Policies); err != nil {
				return nil, fmt.Errorf("%s: policies: %w", p.Name, err)
			}
		}
		v := p.Value
		switch {
		case p.Type == string(vane.TypeSecureString) && mode == Sealed:
			e.Sealed = v
		case p.Type == string(vane.TypeSecureString) && mode == Placeholder:
		case flag.IsFlagName(p.Name) && json.Valid([]byte(v)):
			e.Flag = compact([]byte(v))
		default:
			e.Value = &v
		}
		f.Parameters[rel] = e
	}
	return f, nil
}

// policiesDocument returns the policies of a parameter as a document: the
// server sends the array, or a string holding it.
func policiesDocument(raw json.RawMessage) (Document, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = json.RawMessage(s)
	}
	if !json.Valid(raw) {
		return nil, errors.New("not JSON")
	}
	return compact(raw), nil
}

// Relative returns name relative to a canonical path, and whether name is
// under it.
func Relative(path, name string) (string, bool) {
	if path == "/" {
		rel := strings.TrimPrefix(name, "/")
		return rel, rel != ""
	}
	if !strings.HasPrefix(name, path) || len(name) == len(path) {
		return "", false
	}
	return name[len(path):], true
}

// Join returns the full name of a relative name under a canonical path.
func Join(path, rel string) string {
	return path + rel
}

// Parse reads a file, YAML or JSON (a document whose first character is
// '{'), and checks it: the format version, the path, each name, type and
// value, flag documents by the flag rules, and no field it does not know.
func Parse(data []byte) (*File, error) {
	var f File
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("the file is empty")
	}
	if trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("not a valid JSON file: %w", err)
		}
		if dec.More() {
			return nil, errors.New("not a valid JSON file: data after the document")
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(trimmed))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("not a valid YAML file: %w", err)
		}
		var extra yaml.Node
		if dec.Decode(&extra) == nil {
			return nil, errors.New("not a valid YAML file: it holds more than one document")
		}
	}
	if err := f.Check(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Check checks a tree as Parse does.
func (f *File) Check() error {
	if f.Version != FormatVersion {
		return fmt.Errorf("format version %d: this vane reads version %d (\"version: %[2]d\")", f.Version, FormatVersion)
	}
	path, err := vane.ValidatePath(f.Path)
	if err != nil {
		return errors.New(vane.ErrorMessage(err))
	}
	f.Path = path
	for _, rel := range f.Names() {
		if err := f.Parameters[rel].check(path, rel); err != nil {
			return fmt.Errorf("parameter %q: %w", rel, err)
		}
	}
	return nil
}

func (e *Entry) check(path, rel string) error {
	if e == nil {
		return errors.New("it is empty: it needs a type and a value")
	}
	if rel == "" || rel[0] == '/' {
		return errors.New("names are relative to the path: drop the leading '/'")
	}
	name := Join(path, rel)
	if _, err := vane.ValidateName(name); err != nil {
		return errors.New(vane.ErrorMessage(err))
	}
	typ := vane.Type(e.Type)
	if !typ.Valid() {
		return fmt.Errorf("type %q: use String, StringList or SecureString", e.Type)
	}
	if e.Flag != nil && !flag.IsFlagName(name) {
		return errors.New("\"flag\" is for flags (names under a features segment): use \"value\"")
	}
	if e.Flag != nil && e.Value != nil {
		return errors.New("give \"flag\" or \"value\", not both")
	}
	if e.Sealed != "" && typ != vane.TypeSecureString {
		return errors.New("\"sealed\" is for SecureString values only")
	}
	if e.Sealed != "" && e.Value != nil {
		return errors.New("give \"sealed\" or \"value\", not both")
	}
	if typ != vane.TypeSecureString && e.KeyID != "" {
		return errors.New("\"key_id\" is for SecureString values only")
	}
	v, ok := e.content()
	if !ok && typ != vane.TypeSecureString {
		return errors.New("it needs a \"value\" (or, for a flag, a \"flag\" document)")
	}
	if ok {
		if err := flag.CheckParameter(name, e.Type, v); err != nil {
			return err
		}
	}
	if e.Policies != nil && !bytes.HasPrefix(e.Policies, []byte("[")) {
		return errors.New("\"policies\" must be a list")
	}
	return nil
}

// Names returns the relative names of a tree, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Parameters))
	for n := range f.Parameters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Marshal writes a tree as YAML or JSON (format YAML or JSON), with its
// keys sorted, so the same tree always gives the same bytes.
func Marshal(f *File, format string) ([]byte, error) {
	switch format {
	case JSON:
		b, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(b, '\n'), nil
	case YAML:
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(f); err != nil {
			return nil, err
		}
		if err := enc.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("format %q: use yaml or json", format)
}

// Document is a JSON value (a flag document, true or false, a list of
// policies) held as compact JSON text in the order it was written. It is
// written into a file as a YAML or JSON value, not as a string.
type Document []byte

// MarshalJSON implements json.Marshaler.
func (d Document) MarshalJSON() ([]byte, error) {
	if d == nil {
		return []byte("null"), nil
	}
	return d, nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Document) UnmarshalJSON(b []byte) error {
	*d = compact(b)
	return nil
}

// MarshalYAML implements yaml.Marshaler: the JSON value as YAML nodes,
// objects keeping their key order.
func (d Document) MarshalYAML() (any, error) {
	dec := json.NewDecoder(bytes.NewReader(d))
	dec.UseNumber()
	return jsonToNode(dec)
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Document) UnmarshalYAML(n *yaml.Node) error {
	b, err := nodeToJSON(nil, n)
	if err != nil {
		return err
	}
	*d = b
	return nil
}

// IsZero tells the YAML encoder to leave an empty document out.
func (d Document) IsZero() bool { return len(d) == 0 }

// compact returns JSON text without insignificant space.
func compact(b []byte) Document {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return Document(slices.Clone(b))
	}
	return Document(buf.Bytes())
}

// jsonToNode reads one JSON value from dec as a YAML node.
func jsonToNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := jsonToNode(dec)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.(string)}, v)
			}
			_, err := dec.Token()
			return n, err
		}
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for dec.More() {
			v, err := jsonToNode(dec)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
		_, err := dec.Token()
		return n, err
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}, nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(t.String(), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// maxDepth bounds the nesting of a document read from YAML.
const maxDepth = 100

// nodeToJSON appends the JSON form of a YAML node to b. Mapping keys must
// be strings; aliases are refused, so a small file can't expand into a
// large document.
func nodeToJSON(b []byte, n *yaml.Node) ([]byte, error) {
	return nodeToJSONDepth(b, n, 0)
}

func nodeToJSONDepth(b []byte, n *yaml.Node, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: a document nested more than %d deep", n.Line, maxDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, fmt.Errorf("line %d: an empty document", n.Line)
		}
		return nodeToJSONDepth(b, n.Content[0], depth)
	case yaml.MappingNode:
		b = append(b, '{')
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || (k.ShortTag() != "!!str" && k.ShortTag() != "!!int" && k.ShortTag() != "!!bool" && k.ShortTag() != "!!float") {
				return nil, fmt.Errorf("line %d: a key of a document must be a string", k.Line)
			}
			if seen[k.Value] {
				return nil, fmt.Errorf("line %d: key %q is repeated", k.Line, k.Value)
			}
			seen[k.Value] = true
			if i > 0 {
				b = append(b, ',')
			}
			kb, _ := json.Marshal(k.Value)
			b = append(append(b, kb...), ':')
			var err error
			if b, err = nodeToJSONDepth(b, n.Content[i+1], depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case yaml.SequenceNode:
		b = append(b, '[')
		for i, c := range n.Content {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = nodeToJSONDepth(b, c, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return append(b, "null"...), nil
		case "!!bool":
			var v bool
			if err := n.Decode(&v); err != nil {
				return nil, err
			}
			return fmt.Append(b, v), nil
		case "!!int", "!!float":
			if json.Valid([]byte(n.Value)) {
				return append(b, n.Value...), nil
			}
			var v float64
			if err := n.Decode(&v); err != nil {
				return nil, err
			}
			enc, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("line %d: %q is not a JSON number", n.Line, n.Value)
			}
			return append(b, enc...), nil
		}
		enc, _ := json.Marshal(n.Value)
		return append(b, enc...), nil
	case yaml.AliasNode:
		return nil, fmt.Errorf("line %d: aliases are not allowed in a document", n.Line)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML", n.Line)
}
