package importer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/flag"
	"github.com/vanehq/vane/manifest"
)

// ssmParameter is one parameter of `aws ssm get-parameters-by-path`'s
// JSON output. Version, LastModifiedDate and ARN are the source's and are
// not imported: the import makes new versions.
type ssmParameter struct {
	Name     string  `json:"Name"`
	Type     string  `json:"Type"`
	Value    *string `json:"Value"`
	DataType string  `json:"DataType"`
}

// standardValueLimit is the longest value of a Standard parameter; a
// longer one was necessarily Advanced in the source.
const standardValueLimit = 4096

// ssmJSON converts the JSON output of `aws ssm get-parameters-by-path
// --recursive --with-decryption`: one {"Parameters": [...]} object, or
// several concatenated (pages written with --no-paginate and appended).
// Each parameter keeps its type and value and its data type; names are
// taken relative to the longest path prefix all of them share (so a dump
// of /myapp/prod imports with --to /myapp/staging unchanged). A
// SecureString arrives decrypted and becomes a SecureString entry with
// its plaintext value, which the import writes encrypted; one whose value
// is still a KMS ciphertext (a dump made without --with-decryption) is
// skipped. A value longer than 4 KB makes the entry Advanced, as it must
// have been in SSM.
func ssmJSON(data []byte, to string) (*manifest.File, []Skip, error) {
	f, err := newFile(to)
	if err != nil {
		return nil, nil, err
	}
	var params []ssmParameter
	dec := json.NewDecoder(bytes.NewReader(data))
	for page := 1; ; page++ {
		var out struct {
			Parameters *[]ssmParameter `json:"Parameters"`
		}
		if err := dec.Decode(&out); err == io.EOF && page > 1 {
			break
		} else if err != nil {
			return nil, nil, fmt.Errorf("not the JSON output of aws ssm get-parameters-by-path: %w", err)
		}
		if out.Parameters == nil {
			return nil, nil, fmt.Errorf("not the JSON output of aws ssm get-parameters-by-path: object %d has no \"Parameters\"", page)
		}
		params = append(params, *out.Parameters...)
	}
	prefix := commonPrefix(params)
	count := map[string]int{}
	for _, p := range params {
		count[p.Name]++
	}
	var skips []Skip
	for _, p := range params {
		if err := ssmEntry(f, p, prefix, count[p.Name]); err != nil {
			skips = append(skips, Skip{p.Name, err.Error()})
		}
	}
	return f, skips, nil
}

func ssmEntry(f *manifest.File, p ssmParameter, prefix string, count int) error {
	switch {
	case p.Name == "":
		return errors.New("it has no Name")
	case count > 1:
		return fmt.Errorf("the output lists this name %d times", count)
	case p.Value == nil:
		return errors.New("it has no Value")
	case !vane.Type(p.Type).Valid():
		return fmt.Errorf("type %q: Vane has String, StringList and SecureString", p.Type)
	case p.Type == string(vane.TypeSecureString) && looksEncrypted(*p.Value):
		return errors.New("the value is a KMS ciphertext, not the secret: run get-parameters-by-path with --with-decryption")
	}
	rel := strings.TrimPrefix(p.Name, prefix)
	rel = strings.TrimPrefix(rel, "/")
	v := *p.Value
	e := &manifest.Entry{Type: p.Type}
	if flag.IsFlagName(manifest.Join(f.Path, rel)) && json.Valid([]byte(v)) && p.Type == string(vane.TypeString) {
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(v)); err != nil {
			return err
		}
		e.Flag = manifest.Document(buf.Bytes())
	} else {
		e.Value = &v
	}
	if p.DataType != "" && p.DataType != vane.DataTypeText {
		e.DataType = p.DataType
	}
	if len(v) > standardValueLimit {
		e.Tier = string(vane.TierAdvanced)
	}
	return add(f, rel, e)
}

// commonPrefix returns the longest path ("/a/b/") that every name is
// under, or "" when a name is not a path.
func commonPrefix(params []ssmParameter) string {
	var prefix []string
	for i, p := range params {
		if !strings.HasPrefix(p.Name, "/") {
			return ""
		}
		dirs := strings.Split(strings.Trim(p.Name, "/"), "/")
		dirs = dirs[:len(dirs)-1]
		if i == 0 {
			prefix = dirs
			continue
		}
		n := 0
		for n < len(prefix) && n < len(dirs) && prefix[n] == dirs[n] {
			n++
		}
		prefix = prefix[:n]
	}
	if len(prefix) == 0 {
		return "/"
	}
	return "/" + strings.Join(prefix, "/") + "/"
}

// looksEncrypted reports whether a SecureString's value is a KMS
// ciphertext blob, as get-parameters-by-path returns without
// --with-decryption: base64 of a blob that begins with KMS's version bytes
// (0x01 0x02 0x02 0x00, "AQICA" in base64).
func looksEncrypted(v string) bool {
	if !strings.HasPrefix(v, "AQICA") || len(v) < 100 {
		return false
	}
	_, err := base64.StdEncoding.DecodeString(v)
	return err == nil
}

var _ converter = ssmJSON
