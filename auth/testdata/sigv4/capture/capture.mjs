// Sends one SSM request with the AWS SDK for JavaScript v3 to the capture
// server of capture.py: node capture.mjs URL get|put [VALUE]. Credentials come
// from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, which capture.py sets.
import { SSMClient, GetParameterCommand, PutParameterCommand } from "@aws-sdk/client-ssm";

const [url, op, value] = process.argv.slice(2);
const client = new SSMClient({
  region: "us-west-2",
  endpoint: url,
  maxAttempts: 1,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  },
});
const command = op === "put"
  ? new PutParameterCommand({ Name: "/vane/test", Value: value, Type: "String", Overwrite: true })
  : new GetParameterCommand({ Name: "/vane/test", WithDecryption: true });
await client.send(command);
