package sdk_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/sdk"
)

// Open a client on a server's paths at start-up and read from it on every
// request. Reads never touch the network.
func ExampleOpen() {
	client, err := sdk.Open(context.Background(), sdk.Config{
		Server:       "http://localhost:7420",
		Paths:        []string{"/myapp/prod/"},
		SnapshotFile: "/var/lib/myapp/vane-snapshot.json", // for cold starts during an outage
		StartTimeout: 2 * time.Second,
	})
	if err != nil {
		log.Fatal(err) // only an invalid Config gets here
	}
	defer client.Close()

	if client.Bool("features/new-checkout", false) {
		fmt.Println("new checkout")
	}
	timeout := client.Duration("tuning/http_timeout", 2*time.Second)
	_ = timeout
}

// A local client stands in for a server here, so the example runs; reads
// are the same on a client made by Open.
func ExampleClient_Bool() {
	client, local, _ := sdk.NewLocal(sdk.Config{Paths: []string{"/myapp/prod/"}})
	defer client.Close()

	fmt.Println(client.Bool("features/new-checkout", false)) // not set: the default
	local.Put("features/new-checkout", vane.TypeString, "true")
	fmt.Println(client.Bool("features/new-checkout", false))
	fmt.Println(client.Bool("/myapp/prod/features/new-checkout", false)) // absolute name
	// Output:
	// false
	// true
	// true
}

// Tunables are declared once with a default, bounds and an environment
// variable that overrides the store.
func ExampleTunables() {
	env := map[string]string{"HTTP_RETRIES": "5"}
	client, local, _ := sdk.NewLocal(sdk.Config{
		Paths:     []string{"/myapp/prod/"},
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		OnError:   func(err error) { fmt.Println("reported:", err) },
	})
	defer client.Close()

	tuning := client.Tunables("tuning")
	ttl := tuning.Int("cache/BALANCE_TTL", 300, sdk.Min(1), sdk.Max(3600))
	retries := tuning.Int("http/retries", 3, sdk.Env("HTTP_RETRIES"))

	fmt.Println(ttl.Get(), ttl.Explain().Source)
	local.Put("tuning/cache/BALANCE_TTL", vane.TypeString, "60")
	fmt.Println(ttl.Get(), ttl.Explain().Source)
	local.Put("tuning/cache/BALANCE_TTL", vane.TypeString, "86400") // above Max
	fmt.Println(ttl.Get(), ttl.Explain().Source)
	fmt.Println(retries.Get(), retries.Explain().Source, retries.Explain().EnvVar)
	// Output:
	// 300 default
	// 60 store
	// reported: sdk: /myapp/prod/tuning/cache/BALANCE_TTL: int value from store version 2 rejected: 86400 is above the maximum 3600
	// 300 default
	// 5 env HTTP_RETRIES
}

// Callbacks run after the new value is visible to reads.
func ExampleClient_OnChange() {
	client, local, _ := sdk.NewLocal(sdk.Config{Paths: []string{"/myapp/prod/"}})
	defer client.Close()

	client.OnChange("features/", func(c sdk.Change) {
		fmt.Printf("%s v%d = %s (read: %v)\n", c.Name, c.Version, c.Value, client.Bool(c.Name, false))
	})
	local.Put("features/new-checkout", vane.TypeString, "true")
	local.Put("tuning/ttl", vane.TypeString, "60") // not under features/
	local.Put("features/new-checkout", vane.TypeString, "false")
	// Output:
	// /myapp/prod/features/new-checkout v1 = true (read: true)
	// /myapp/prod/features/new-checkout v2 = false (read: false)
}

// Explain tells where a value comes from.
func ExampleClient_Explain() {
	env := map[string]string{"BALANCE_TTL": "30"}
	client, local, _ := sdk.NewLocal(sdk.Config{
		Paths:     []string{"/myapp/prod/"},
		Env:       map[string]string{"tuning/cache/BALANCE_TTL": "BALANCE_TTL"},
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	defer client.Close()
	local.Put("tuning/cache/BALANCE_TTL", vane.TypeString, "300")

	x := client.Explain("tuning/cache/BALANCE_TTL")
	fmt.Println(x.Source, x.EnvVar, x.Value, x.Note)
	x = client.Explain("tuning/cache/MISSING")
	fmt.Println(x.Source, x.Note)
	// Output:
	// env BALANCE_TTL 30 overrides store version 1
	// default not in the store under the client's paths
}
