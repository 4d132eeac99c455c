package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SigV4Validity is how long a request signed by SignSSM is accepted:
// AWS, and Vane, accept an X-Amz-Date up to 5 minutes from their clock.
// A load that replays one signed request must end within it; a margin of
// a minute leaves room for clock steps and the start of the run.
const SigV4Validity = 4 * time.Minute

// SignSSM signs req, an SSM JSON 1.1 request whose body is body, with
// AWS Signature Version 4 as aws-sdk-go-v2 does for the SSM client:
// service "ssm", the given region, the hex SHA-256 of body as the payload
// hash, signed at t. It sets X-Amz-Date and Authorization, and signs
// every header req already has (say Content-Type and X-Amz-Target) plus
// Host and, for a non-empty body, Content-Length, which req.ContentLength
// must hold. Replaying the signed request within SigV4Validity of t is a
// fair load: AWS and Vane accept such replays.
func SignSSM(req *http.Request, body []byte, accessKeyID, secret, region string, t time.Time) error {
	if int64(len(body)) != req.ContentLength {
		return fmt.Errorf("bench: SignSSM: request ContentLength %d, body %d bytes", req.ContentLength, len(body))
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "ssm", region, t); err != nil {
		return fmt.Errorf("bench: SignSSM: %w", err)
	}
	return nil
}
