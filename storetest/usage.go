package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

// RunUsage runs the conformance tests of vane.UsageStore. open returns a
// new, empty store; the tests close it if it is an io.Closer-like store.
func RunUsage(t *testing.T, open func(t *testing.T) vane.UsageStore) {
	t.Helper()
	day := func(d int) string { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly) }
	at := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	t.Run("SumsAndKeepsTheLatest", func(t *testing.T) {
		s := open(t)
		ctx := context.Background()
		must(t, s.AddUsage(ctx, []vane.FlagUsage{
			{Name: "/a/features/x", Day: day(20), Variant: "on", Count: 3, Last: at(20, 10)},
			{Name: "/a/features/x", Day: day(20), Variant: "off", Count: 1, Last: at(20, 9)},
			{Name: "/a/features/y", Day: day(21), Variant: "on", Count: 2, Last: at(21, 1)},
			{Name: "/b/features/z", Day: day(21), Variant: "", Count: 1, Last: at(21, 2)},
		}))
		must(t, s.AddUsage(ctx, []vane.FlagUsage{
			{Name: "/a/features/x", Day: day(20), Variant: "on", Count: 4, Last: at(20, 8)}, // earlier Last
			{Name: "/a/features/x", Day: day(21), Variant: "on", Count: 1, Last: at(21, 3)},
		}))
		got, err := s.Usage(ctx, "/a/", "")
		must(t, err)
		want := []vane.FlagUsage{
			{Name: "/a/features/x", Day: day(20), Variant: "off", Count: 1, Last: at(20, 9)},
			{Name: "/a/features/x", Day: day(20), Variant: "on", Count: 7, Last: at(20, 10)},
			{Name: "/a/features/x", Day: day(21), Variant: "on", Count: 1, Last: at(21, 3)},
			{Name: "/a/features/y", Day: day(21), Variant: "on", Count: 2, Last: at(21, 1)},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Usage(/a/) =\n%v\nwant\n%v", got, want)
		}
		since, err := s.Usage(ctx, "/", day(21))
		must(t, err)
		if len(since) != 3 || since[2].Name != "/b/features/z" || since[2].Variant != "" {
			t.Errorf("Usage(/, since %s) = %v", day(21), since)
		}
		empty, err := s.Usage(ctx, "/nothing/", "")
		must(t, err)
		if empty == nil || len(empty) != 0 {
			t.Errorf("Usage of an empty prefix = %#v, want an empty non-nil slice", empty)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		s := open(t)
		for _, rows := range [][]vane.FlagUsage{
			{{Name: "", Day: day(1), Count: 1}},
			{{Name: "no-slash", Day: day(1), Count: 1}},
			{{Name: "/a", Day: "21/11/2026", Count: 1}},
			{{Name: "/a", Day: day(1), Count: -1}},
			{{Name: "/ok", Day: day(1), Count: 1}, {Name: "/a", Day: "x", Count: 1}}, // all or nothing
		} {
			if err := s.AddUsage(context.Background(), rows); vane.ErrorCode(err) != vane.EINVALID {
				t.Errorf("AddUsage(%v) = %v, want EINVALID", rows, err)
			}
		}
		got, err := s.Usage(context.Background(), "", "")
		must(t, err)
		if len(got) != 0 {
			t.Errorf("refused rows were stored: %v", got)
		}
	})
	t.Run("TotalsPerFlag", func(t *testing.T) {
		s := open(t)
		ctx := context.Background()
		must(t, s.AddUsage(ctx, []vane.FlagUsage{
			{Name: "/a/features/x", Day: day(10), Variant: "on", Count: 5, Last: at(10, 4)},
			{Name: "/a/features/x", Day: day(20), Variant: "on", Count: 3, Last: at(20, 10)},
			{Name: "/a/features/x", Day: day(20), Variant: "", Count: 1, Last: at(20, 11)},
			{Name: "/a/features/old", Day: day(2), Variant: "off", Count: 9, Last: at(2, 7)},
			{Name: "/b/features/z", Day: day(21), Variant: "on", Count: 2, Last: at(21, 1)},
		}))
		got, err := s.UsageTotals(ctx, "/a/", day(15))
		must(t, err)
		want := []vane.UsageTotal{
			{Name: "/a/features/old", Count: 0, Last: at(2, 7)}, // counted before since: Last still shown
			{Name: "/a/features/x", Count: 4, Last: at(20, 11)},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("UsageTotals(/a/, since %s) =\n%v\nwant\n%v", day(15), got, want)
		}
		all, err := s.UsageTotals(ctx, "", "")
		must(t, err)
		if len(all) != 3 || all[1].Count != 9 || all[2].Name != "/b/features/z" {
			t.Errorf("UsageTotals(all) = %v", all)
		}
		if _, err := s.UsageTotals(ctx, "/a\x00", ""); vane.ErrorCode(err) != vane.EINVALID {
			t.Errorf("UsageTotals with a NUL in the prefix: %v, want invalid", err)
		}
	})
	t.Run("ConcurrentAddsSum", func(t *testing.T) {
		s := open(t)
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 25; i++ {
					if err := s.AddUsage(context.Background(), []vane.FlagUsage{{Name: "/c/features/x", Day: day(21), Variant: "on", Count: 2, Last: at(21, 5)}}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		got, err := s.Usage(context.Background(), "/c/", "")
		must(t, err)
		if len(got) != 1 || got[0].Count != 200 {
			t.Errorf("after 100 concurrent adds of 2: %v, want one row of 200", got)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
