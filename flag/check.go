package flag

import "fmt"

// CheckParameter vets a parameter write: a flag (a name with a "features"
// segment before its last) must be a String whose value Parse accepts.
// Other names pass. typ "" (an overwrite keeping the type) counts as
// String. The error names the flag and the JSON path of the problem.
func CheckParameter(name, typ, value string) error {
	if !IsFlagName(name) {
		return nil
	}
	if typ != "" && typ != "String" {
		return fmt.Errorf("%s is a flag (under a features segment), so it must be a String parameter, not %s", name, typ)
	}
	if _, err := Parse(name, value); err != nil {
		return fmt.Errorf("flag %s: %w", name, err)
	}
	return nil
}
