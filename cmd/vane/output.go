package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxValueWidth is how many characters of a value a table shows.
const maxValueWidth = 40

// printJSON writes a JSON response body to w, indented.
func printJSON(w io.Writer, raw []byte) error {
	var b bytes.Buffer
	if err := json.Indent(&b, bytes.TrimSpace(raw), "", "  "); err != nil {
		return fmt.Errorf("the server sent a response that is not JSON: %w", err)
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// printJSONList writes the parameters of every page of a listing as one
// page of the API's listing shape, {"parameters": [...]}, indented.
func printJSONList(w io.Writer, raws []json.RawMessage) error {
	return printJSONListOf(w, "parameters", raws)
}

// printJSONListOf writes the items of every page of a listing as one page
// of the API's listing shape, {"FIELD": [...]}, indented.
func printJSONListOf(w io.Writer, field string, raws []json.RawMessage) error {
	if raws == nil {
		raws = []json.RawMessage{}
	}
	b, err := json.MarshalIndent(map[string][]json.RawMessage{field: raws}, "", "  ")
	if err != nil {
		return fmt.Errorf("the server sent a response that is not JSON: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// table writes aligned columns for people. It prints nothing, not even the
// header, when it has no rows.
type table struct {
	w      io.Writer
	header []string
	rows   [][]string
}

func newTable(w io.Writer, header ...string) *table {
	return &table{w: w, header: header}
}

// row adds a row; cells must not hold tabs or newlines (see display).
func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

// flush writes the table.
func (t *table) flush() error {
	if len(t.rows) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(t.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.header, "\t"))
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// printParameter writes every field of p, one per line, for get -v.
func printParameter(w io.Writer, p *parameter) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", name, value)
		}
	}
	field("Name", display(p.Name))
	field("Selector", display(p.Selector))
	field("Type", display(p.Type))
	field("Value", display(p.Value))
	field("Version", strconv.FormatInt(p.Version, 10))
	field("Labels", display(strings.Join(p.Labels, ", ")))
	field("Tier", display(p.Tier))
	field("Data type", display(p.DataType))
	field("Description", display(p.Description))
	field("Allowed pattern", display(p.AllowedPattern))
	field("Key ID", display(p.KeyID))
	field("Last modified", displayTime(p.LastModified))
	field("Last modified by", display(p.LastModifiedUser))
	return tw.Flush()
}

// display returns s for a table cell: quoted, Go-style, when it holds
// control characters such as newlines and tabs, which would break the
// table, or when it would otherwise look empty.
func display(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 || (s != "" && strings.TrimSpace(s) == "") {
		return strconv.Quote(s)
	}
	return s
}

// displayValue returns the value column of a listing: masked for a
// SecureString, else shown by display and cut to maxValueWidth characters.
func displayValue(p *parameter) string {
	if p.Type == "SecureString" {
		return "****"
	}
	v := display(p.Value)
	if utf8.RuneCountInString(v) <= maxValueWidth {
		return v
	}
	r := []rune(v)
	return string(r[:maxValueWidth-3]) + "..."
}

// displayTime shows an RFC 3339 time from the API in UTC to the second.
func displayTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return display(s)
	}
	return t.UTC().Format(time.RFC3339)
}
