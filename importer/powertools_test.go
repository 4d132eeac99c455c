package importer_test

import (
	"testing"

	"github.com/vanehq/vane/importer"
)

func TestPowertoolsVariantNames(t *testing.T) {
	t.Run("EmptyStringDoesNotTakeAName", func(t *testing.T) {
		f, skips, err := importer.Convert("powertools", []byte(`{"x": {"default": "", "boolean_type": false,
			"rules": {"r": {"when_match": "value-1", "conditions": [{"action": "EQUALS", "key": "k", "value": 1}]}}}}`), "/app/")
		if err != nil || len(skips) != 0 {
			t.Fatal(err, skips)
		}
		want := `{"variants":{"value-2":"","value-1":"value-1"},"default":"","rules":{"r":{"when_match":"value-1","conditions":[{"action":"EQUALS","key":"k","value":1}]}}}`
		if got := string(f.Parameters["features/x"].Flag); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("BooleanTypeFalseWithBooleans", func(t *testing.T) {
		f, skips, err := importer.Convert("powertools", []byte(`{"x": {"default": true, "boolean_type": false}}`), "/app/")
		if err != nil || len(skips) != 0 {
			t.Fatal(err, skips)
		}
		if got := string(f.Parameters["features/x"].Flag); got != `{"variants":{"on":true},"default":true}` {
			t.Errorf("got %s", got)
		}
	})
}
