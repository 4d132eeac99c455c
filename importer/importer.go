// Package importer converts what teams migrate from into Vane's config as
// code (a manifest.File), so that `vane import --from FORMAT FILE --to
// PATH` applies it as one atomic, compare-and-set batch like any other
// import. A converter maps every item it can and reports every one it
// cannot, with the reason; it never returns a half-converted item: an item
// is either in the file whole or skipped.
//
// The package is pure: bytes in, a manifest out.
package importer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vanehq/vane/manifest"
)

// Skip is an item a converter could not map, and why.
type Skip struct {
	Item   string // the item as the source names it
	Reason string
}

// converter converts the bytes of a source file into a manifest under the
// canonical path to.
type converter func(data []byte, to string) (*manifest.File, []Skip, error)

// converters are the formats Convert reads, by name.
func converters() map[string]converter {
	return map[string]converter{
		"powertools": powertools,
		"appconfig":  powertools,
		"ssm-json":   ssmJSON,
		"dotenv":     dotenv,
		"flagd":      convertFlagd,
		"flipt":      convertFlipt,
		"unleash":    convertUnleash,
	}
}

// Formats returns the names of the formats Convert reads, sorted.
func Formats() []string {
	var out []string
	for name := range converters() {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// Convert reads data in the named format into a manifest under the path
// to (a canonical path such as "/myapp/prod/"), with the items it skipped.
func Convert(format string, data []byte, to string) (*manifest.File, []Skip, error) {
	c, ok := converters()[format]
	if !ok {
		return nil, nil, fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(Formats(), ", "))
	}
	return c(data, to)
}
