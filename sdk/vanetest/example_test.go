package vanetest_test

import (
	"fmt"
	"testing"

	"github.com/vanehq/vane/sdk"
	"github.com/vanehq/vane/sdk/vanetest"
)

// checkout is code under test: it runs the new flow only when the flag is
// on.
func checkout(c *sdk.Client, newFlow func()) string {
	if c.Bool("features/new-checkout", false) {
		newFlow()
		return "new"
	}
	return "old"
}

func TestCheckoutFlag(t *testing.T) {
	f := vanetest.New(t, "/myapp/prod/")
	ran := false
	f.SetBool("features/new-checkout", false)
	if got := checkout(f.Client, func() { ran = true }); got != "old" || ran {
		t.Errorf("flag off: %s, new flow ran: %v", got, ran)
	}
	f.SetBool("features/new-checkout", true)
	if got := checkout(f.Client, func() { ran = true }); got != "new" || !ran {
		t.Errorf("flag on: %s, new flow ran: %v", got, ran)
	}
	f.Delete("features/new-checkout")
	if got := checkout(f.Client, func() {}); got != "old" {
		t.Errorf("flag deleted: %s, want the default", got)
	}
}

// A unit test turns a flag off and on and checks that the feature's code
// runs only when it is on.
func Example() {
	t := &testing.T{} // in a real test, the *testing.T of the test
	f := vanetest.New(t, "/myapp/prod/")

	f.SetBool("features/new-checkout", false)
	fmt.Println(checkout(f.Client, func() { fmt.Println("new flow ran") }))

	f.SetBool("features/new-checkout", true)
	fmt.Println(checkout(f.Client, func() { fmt.Println("new flow ran") }))
	// Output:
	// old
	// new flow ran
	// new
}
