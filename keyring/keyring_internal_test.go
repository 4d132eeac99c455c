package keyring

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
)

func TestDataKeysDiffer(t *testing.T) {
	k, err := Open(Options{Path: filepath.Join(t.TempDir(), DefaultFileName)})
	if err != nil {
		t.Fatal(err)
	}
	var keys [][]byte
	for range 10 {
		sealed, err := k.Seal(context.Background(), "", "same value")
		if err != nil {
			t.Fatal(err)
		}
		_, dk, err := k.dataKey(sealed)
		if err != nil {
			t.Fatal(err)
		}
		for _, other := range keys {
			if bytes.Equal(dk, other) {
				t.Fatal("two values share a data key")
			}
		}
		keys = append(keys, dk)
	}
}
