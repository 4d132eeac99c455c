package storetest

import (
	"context"
	"testing"

	"github.com/vanehq/vane"
)

// AllChanges reads the whole change log of s, following its pages, for
// tests that compare stores.
func AllChanges(tb testing.TB, s vane.ChangeLog) []vane.Change {
	tb.Helper()
	var out []vane.Change
	for after := int64(0); ; {
		page, err := s.Changes(context.Background(), after, "", vane.MaxPageSize)
		if err != nil {
			tb.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Seq
	}
}

// AllHistory reads every kept version of name, following the pages.
func AllHistory(tb testing.TB, s vane.ParameterStore, name string) []*vane.Parameter {
	tb.Helper()
	var out []*vane.Parameter
	in := &vane.HistoryInput{Name: name, Limit: vane.MaxPageSize}
	for {
		page, err := s.History(context.Background(), in)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, page.Parameters...)
		if page.NextToken == "" {
			return out
		}
		in.NextToken = page.NextToken
	}
}
