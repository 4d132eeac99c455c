// Command goclient sends one SSM request with aws-sdk-go-v2 to the capture
// server of capture.py: go run ./auth/testdata/sigv4/capture/goclient URL
// get|put [VALUE]. Credentials come from the environment, which capture.py
// sets to the test key.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func main() {
	if len(os.Args) < 3 {
		log.Fatal("usage: goclient URL get|put [VALUE]")
	}
	url, op := os.Args[1], os.Args[2]
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("ap-southeast-2"), config.WithRetryMaxAttempts(1))
	if err != nil {
		log.Fatal(err)
	}
	client := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(url) })
	switch op {
	case "put":
		_, err = client.PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String("/vane/test"), Value: aws.String(os.Args[3]),
			Type: types.ParameterTypeString, Overwrite: aws.Bool(true),
		})
	default:
		_, err = client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/vane/test"), WithDecryption: aws.Bool(true)})
	}
	if err != nil {
		log.Fatal(err)
	}
}
