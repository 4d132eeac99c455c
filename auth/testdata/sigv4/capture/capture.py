#!/usr/bin/env python3
"""Capture SigV4-signed SSM requests from real AWS clients as JSON fixtures.

Starts a capture server on 127.0.0.1 (a random port) that records every
request as received on the wire (request line, headers in order with their
original case, body) and answers with a canned SSM response, then points each
client at it with the test key of ../README.md:

  - the aws CLI (python awscli), run as a subprocess,
  - boto3, in this process,
  - the AWS SDK for JavaScript v3 (@aws-sdk/client-ssm), via capture.mjs,
  - aws-sdk-go-v2's ssm client, via goclient/ (run with the repository's go.mod).

Each captured request becomes ../<name>.json. Run from anywhere:

  (cd auth/testdata/sigv4/capture && npm ci)   # once, for the JS SDK
  python3 auth/testdata/sigv4/capture/capture.py

The fixtures carry the time they were signed at (X-Amz-Date); the Go test
replays them with its clock set to that time, so they never go stale.
"""

import base64
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)  # auth/testdata/sigv4
REPO = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))

# The test key: AWS's documentation example, never a real credential.
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
# A session token, for the one capture that sends one (Vane rejects them).
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN//////////wEaDEXAMPLE="

# A value with JSON escapes, non-ASCII text and characters that URL and
# header encoders treat specially, so body hashing is exercised for real.
AWKWARD_VALUE = 'héllo wörld ✓ "quoted" \\back\\ & <tag> 100% +plus+ tab\tend'

CANNED = {
    "AmazonSSM.GetParameter": {
        "Parameter": {
            "Name": "/vane/test", "Type": "String", "Value": "v", "Version": 1,
            "LastModifiedDate": 1767225600, "DataType": "text",
            "ARN": "arn:aws:ssm:us-east-1:000000000000:parameter/vane/test",
        }
    },
    "AmazonSSM.PutParameter": {"Version": 2, "Tier": "Standard"},
    "AmazonSSM.GetParametersByPath": {"Parameters": []},
}


class Recorder:
    """Collects captured requests; the server thread appends, main reads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []

    def add(self, req):
        with self.lock:
            self.requests.append(req)

    def take(self):
        with self.lock:
            reqs, self.requests = self.requests, []
        return reqs


def make_handler(recorder):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            headers = [[k, v] for k, v in self.headers.items()]
            body = self.read_body()
            req = {"method": self.command, "target": self.path,
                   "proto": self.request_version, "headers": headers}
            try:
                req["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                req["body_base64"] = base64.b64encode(body).decode("ascii")
            recorder.add(req)
            resp = json.dumps(CANNED.get(self.headers.get("X-Amz-Target", ""), {})).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(resp)))
            self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
            self.end_headers()
            self.wfile.write(resp)

        def read_body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))

        def log_message(self, fmt, *args):
            pass

    return Handler


def client_env(**extra):
    """An environment with the test key and no shared config or profile."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    env.update(extra)
    return env


def run(cmd, env, cwd=None):
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def version(cmd, cwd=None):
    out = subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
    return (out.stdout + out.stderr).strip()


def main():
    recorder = Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(recorder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d" % server.server_address[1]
    fixtures = []

    def capture(name, client, note, expect="ok"):
        reqs = recorder.take()
        if len(reqs) != 1:
            sys.exit("%s: captured %d requests, want 1" % (name, len(reqs)))
        fixtures.append({
            "name": name, "client": client, "note": note, "expect": expect,
            "access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET_ACCESS_KEY,
            "request": reqs[0],
        })

    # The aws CLI (v1, python). Its version line names botocore too.
    cli = version(["aws", "--version"])
    env = client_env()
    run(["aws", "ssm", "get-parameter", "--name", "/vane/test", "--with-decryption",
         "--endpoint-url", url, "--region", "us-east-1"], env)
    capture("cli-get-parameter", cli, "aws ssm get-parameter --with-decryption")
    run(["aws", "ssm", "put-parameter", "--name", "/vane/test", "--type", "String",
         "--overwrite", "--value", AWKWARD_VALUE,
         "--endpoint-url", url, "--region", "us-east-1"], env)
    capture("cli-put-parameter", cli, "aws ssm put-parameter with a value full of escapes and non-ASCII text")
    run(["aws", "ssm", "get-parameter", "--name", "/vane/test",
         "--endpoint-url", url, "--region", "us-east-1"],
        client_env(AWS_SESSION_TOKEN=SESSION_TOKEN))
    capture("cli-session-token", cli,
            "aws ssm get-parameter with AWS_SESSION_TOKEN set: the token is signed; "
            "the signature verifies, and Vane then rejects the token",
            expect="UnrecognizedClientException")

    # boto3, in this process.
    import boto3
    import botocore
    b3 = "boto3/%s botocore/%s Python/%s" % (boto3.__version__, botocore.__version__, sys.version.split()[0])
    ssm = boto3.client("ssm", endpoint_url=url, region_name="eu-west-1",
                       aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)
    ssm.get_parameters_by_path(Path="/vane", Recursive=True, WithDecryption=True, MaxResults=10)
    capture("boto3-get-parameters-by-path", b3, "boto3 get_parameters_by_path in eu-west-1")
    ssm.put_parameter(Name="/vane/test", Value=AWKWARD_VALUE, Type="String", Overwrite=True)
    capture("boto3-put-parameter", b3, "boto3 put_parameter with a value full of escapes and non-ASCII text")

    # The AWS SDK for JavaScript v3.
    node = os.path.join(HERE, "node_modules")
    if not os.path.isdir(node):
        sys.exit("run `npm ci` in %s first" % HERE)
    with open(os.path.join(node, "@aws-sdk", "client-ssm", "package.json")) as f:
        js = "@aws-sdk/client-ssm/%s Node.js/%s" % (json.load(f)["version"], version(["node", "--version"]).lstrip("v"))
    run(["node", "capture.mjs", url, "get"], client_env(), cwd=HERE)
    capture("js-get-parameter", js, "GetParameterCommand in us-west-2")
    run(["node", "capture.mjs", url, "put", AWKWARD_VALUE], client_env(), cwd=HERE)
    capture("js-put-parameter", js, "PutParameterCommand with a value full of escapes and non-ASCII text")

    # aws-sdk-go-v2, built with the repository's go.mod.
    gover = version(["go", "list", "-m", "-f", "{{.Path}}@{{.Version}}",
                     "github.com/aws/aws-sdk-go-v2/service/ssm"], cwd=REPO)
    goclient = "./auth/testdata/sigv4/capture/goclient"
    run(["go", "run", goclient, url, "get"], client_env(), cwd=REPO)
    capture("go-get-parameter", gover, "ssm.Client GetParameter in ap-southeast-2")
    run(["go", "run", goclient, url, "put", AWKWARD_VALUE], client_env(), cwd=REPO)
    capture("go-put-parameter", gover, "ssm.Client PutParameter with a value full of escapes and non-ASCII text")

    server.shutdown()
    for fx in fixtures:
        path = os.path.join(OUT, fx["name"] + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(fx, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print("wrote", os.path.relpath(path, REPO))


if __name__ == "__main__":
    main()
