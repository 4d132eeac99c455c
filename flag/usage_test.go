package flag_test

import (
	"sync"
	"testing"
	"time"

	vflag "github.com/vanehq/vane/flag"
)

func TestRecorderCountsEveryEvaluationOnce(t *testing.T) {
	var r vflag.Recorder
	f := mustParse(t, "/a/features/x", `{"variants": {"a": "A", "b": "B"}, "default_variant": "a"}`)
	tally := r.Tally("/a/features/x", f)
	broken := r.Tally("/a/features/broken", nil)
	const workers, each = 4, 20000
	var wg sync.WaitGroup
	totals := map[string]int64{}
	var mu sync.Mutex
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	stop, drained := make(chan struct{}), make(chan struct{})
	go func() { // drain concurrently with the counting
		defer close(drained)
		for {
			select {
			case <-stop:
				return
			default:
			}
			us := r.Drain(now)
			mu.Lock()
			for _, u := range us {
				totals[u.Name+":"+u.Variant] += u.Count
			}
			mu.Unlock()
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				tally.Add("a")
				tally.Add("b")
				tally.Add("zzz") // not a variant: counted as an error
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-drained
	for _, u := range r.Drain(now) {
		totals[u.Name+":"+u.Variant] += u.Count
	}
	broken.Add("")
	for _, u := range r.Drain(now) {
		totals[u.Name+":"+u.Variant] += u.Count
		if !u.Last.Equal(now) {
			t.Errorf("Last = %v, want %v", u.Last, now)
		}
	}
	want := map[string]int64{"/a/features/x:a": workers * each, "/a/features/x:b": workers * each, "/a/features/x:": workers * each, "/a/features/broken:": 1}
	for k, v := range want {
		if totals[k] != v {
			t.Errorf("%s counted %d, want %d", k, totals[k], v)
		}
	}
	if us := r.Drain(now); len(us) != 0 {
		t.Errorf("a Drain with nothing counted returned %v", us)
	}
}
