#!/usr/bin/env python3
"""Every SSM Parameter Store operation Vane serves, driven with boto3.

Usage: python3 .ci/boto3-test.py [URL]

Without URL, builds vane, starts `vane serve --addr 127.0.0.1:0` over a
temporary data directory (as .ci/aws-cli-test.sh does), reads the server's
`url=` log line, runs the checks against it and stops the server with
SIGTERM (it must exit 0). With URL, runs the checks against that server.

Each operation's results are checked, as are the typed errors boto3 raises
(client.exceptions.*) and an operation Vane does not serve. Names are unique
per run. The last line is "boto3: N passed, M failed"; the exit status is 1
if any check failed.
"""

import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.exceptions

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACCOUNT = "000000000000"
REGION = "us-east-1"
BUILD_TIMEOUT = 600  # seconds: a cold `go build` compiles every dependency
URL_TIMEOUT = 120  # seconds for the server to log its url= line
STOP_TIMEOUT = 30  # seconds for the server to exit after SIGTERM

passed = 0
failed = 0


def ok(name):
    global passed
    passed += 1
    print(f"ok   {name}", flush=True)


def fail(name, detail):
    global failed
    failed += 1
    print(f"FAIL {name}: {detail}", flush=True)


def check(name, cond, detail=""):
    """Counts a check: cond true passes; detail explains a failure."""
    if cond:
        ok(name)
    else:
        fail(name, detail)
    return cond


def check_eq(name, got, want):
    return check(name, got == want, f"got {got!r}, want {want!r}")


def expect_error(name, exc_class, fn, *args, **kwargs):
    """Checks that fn raises the typed error exc_class (a class of
    client.exceptions), with the same code in the response and HTTP 400.
    Returns the error, or None."""
    code = exc_class.__name__
    try:
        out = fn(*args, **kwargs)
    except exc_class as e:
        got_code = e.response.get("Error", {}).get("Code")
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        msg = e.response.get("Error", {}).get("Message", "")
        check(name, got_code == code and status == 400 and msg,
              f"{code} raised, but code {got_code!r}, status {status!r}, message {msg!r}")
        return e
    except botocore.exceptions.ClientError as e:
        fail(name, f"want {code}, got {type(e).__name__}: {e}")
        return None
    except Exception as e:  # noqa: BLE001 - any other failure is a failed check
        fail(name, f"want {code}, got {type(e).__name__}: {e}")
        return None
    fail(name, f"want {code}, the call succeeded: {out!r}")
    return None


def section(name, fn, *args):
    """Runs a group of checks; an unexpected exception is one failure and
    does not stop the other groups."""
    print(f"-- {name}", flush=True)
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001
        fail(f"{name} (unexpected exception)", f"{type(e).__name__}: {e}\n{traceback.format_exc()}")


def is_recent_datetime(t):
    """A timestamp botocore parsed from the epoch number: an aware datetime
    close to now (client and server share the clock)."""
    if not isinstance(t, datetime.datetime) or t.tzinfo is None:
        return False
    return abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) < 600


# ---------------------------------------------------------------------------
# The server


class Server:
    """`vane serve` on a free port over a temporary data directory."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="vane-boto3-")
        self.proc = None
        self.lines = []
        self.lock = threading.Lock()
        self.url = None
        self.url_seen = threading.Event()
        self.reader = None

    def start(self):
        binary = os.path.join(self.tmp, "vane")
        print("building vane", flush=True)
        subprocess.run(["go", "build", "-o", binary, "./cmd/vane"], cwd=REPO, check=True, timeout=BUILD_TIMEOUT)
        self.proc = subprocess.Popen(
            [binary, "serve", "--addr", "127.0.0.1:0", "--data", os.path.join(self.tmp, "data")],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace")
        # Drain the log all along: the server logs every request, and a full
        # pipe would block it.
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + URL_TIMEOUT
        while not self.url_seen.is_set():
            if self.proc.poll() is not None:
                self.reader.join(5)
                raise RuntimeError(f"the server exited with status {self.proc.returncode} before logging its url= line:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not log its url= line within {URL_TIMEOUT} s:\n{self.log()}")
            self.url_seen.wait(0.1)
        return self.url

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line)
            if self.url is None:
                m = re.search(r"msg=listening url=(http:\S+)", line)
                if m:
                    self.url = m.group(1)
                    self.url_seen.set()

    def log(self):
        with self.lock:
            return "".join(self.lines)

    def stop(self):
        """Stops the server with SIGTERM; returns its exit status (None if it
        never started)."""
        try:
            if self.proc is None:
                return None
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    print(f"the server did not stop within {STOP_TIMEOUT} s of SIGTERM: killing it", flush=True)
                    self.proc.kill()
                    self.proc.wait()
                    return "killed"
            if self.reader is not None:
                self.reader.join(5)
            return self.proc.returncode
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# The checks


class Checks:
    def __init__(self, url, key_id, secret):
        self.url = url.rstrip("/")
        self.key_id, self.secret = key_id, secret
        self.ssm = boto3.client(
            "ssm",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            config=botocore.config.Config(
                retries={"mode": "standard", "max_attempts": 2},
                connect_timeout=5, read_timeout=30),
        )
        self.ex = self.ssm.exceptions
        self.p = f"/boto3-{uuid.uuid4().hex[:12]}"  # unique per run
        p = self.p
        self.url_name = f"{p}/app/url"
        self.hosts = f"{p}/app/hosts"
        self.big = f"{p}/app/big"
        self.password = f"{p}/app/db/password"
        self.token = f"{p}/app/db/token"
        self.labels = f"{p}/labels"
        self.tagged = f"{p}/tagged"

    def arn(self, name):
        return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}"

    def get(self, name, **kw):
        return self.ssm.get_parameter(Name=name, **kw)["Parameter"]

    def tags(self, name):
        return [(t["Key"], t["Value"]) for t in
                self.ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]]

    # PutParameter ----------------------------------------------------------

    def put_parameter(self):
        ssm = self.ssm
        r = ssm.put_parameter(Name=self.url_name, Value="https://example.invalid/v1", Type="String",
                              Description="service URL",
                              Tags=[{"Key": "team", "Value": "core"}, {"Key": "env", "Value": "ci"}])
        check_eq("PutParameter String with Tags creates version 1, Standard", (r["Version"], r["Tier"]), (1, "Standard"))

        expect_error("PutParameter existing name without Overwrite: ParameterAlreadyExists",
                     self.ex.ParameterAlreadyExists, ssm.put_parameter,
                     Name=self.url_name, Value="https://example.invalid/v1", Type="String")

        r = ssm.put_parameter(Name=self.url_name, Value="https://example.invalid/v2", Overwrite=True)
        check_eq("PutParameter Overwrite creates version 2", r["Version"], 2)

        r = ssm.put_parameter(Name=self.hosts, Value="a.example,b.example,c.example", Type="StringList")
        check_eq("PutParameter StringList", r["Version"], 1)

        r = ssm.put_parameter(Name=self.password, Value="hunter2", Type="SecureString")
        check_eq("PutParameter SecureString with the default key", r["Version"], 1)

        r = ssm.put_parameter(Name=self.token, Value="s3cr3t-t0ken", Type="SecureString", KeyId="alias/aws/ssm")
        check_eq("PutParameter SecureString with KeyId alias/aws/ssm", r["Version"], 1)

        expect_error("PutParameter SecureString with an unknown KeyId: InvalidKeyId",
                     self.ex.InvalidKeyId, ssm.put_parameter,
                     Name=f"{self.p}/app/db/badkey", Value="x", Type="SecureString", KeyId="alias/vane-no-such-key")
        expect_error("PutParameter with an unknown KeyId stores nothing",
                     self.ex.ParameterNotFound, ssm.get_parameter, Name=f"{self.p}/app/db/badkey")

        big = "x" * 5000  # over the 4096 characters of Standard
        r = ssm.put_parameter(Name=self.big, Value=big, Type="String", Tier="Advanced")
        check_eq("PutParameter Tier Advanced (5000 characters)", (r["Version"], r["Tier"]), (1, "Advanced"))
        check_eq("GetParameter of the Advanced value returns all of it", len(self.get(self.big)["Value"]), 5000)

    # GetParameter ----------------------------------------------------------

    def get_parameter(self):
        ssm = self.ssm
        p = self.get(self.url_name)
        check("GetParameter latest version",
              p["Name"] == self.url_name and p["Value"] == "https://example.invalid/v2" and p["Version"] == 2
              and p["Type"] == "String" and p["DataType"] == "text" and p["ARN"] == self.arn(self.url_name)
              and "Selector" not in p, p)
        check("GetParameter LastModifiedDate is a datetime (botocore parsed the epoch number)",
              is_recent_datetime(p["LastModifiedDate"]), repr(p.get("LastModifiedDate")))

        p = self.get(self.url_name + ":1")
        check("GetParameter name:1 selects version 1",
              p["Version"] == 1 and p["Value"] == "https://example.invalid/v1" and p["Selector"] == ":1"
              and p["Name"] == self.url_name, p)

        p = self.get(self.arn(self.url_name))
        check("GetParameter by ARN returns the name, not the ARN",
              p["Name"] == self.url_name and p["Version"] == 2 and p["Value"] == "https://example.invalid/v2", p)

        p = self.get(self.arn(self.url_name) + ":1")
        check("GetParameter by ARN:1", p["Version"] == 1 and p["Name"] == self.url_name, p)

        p = self.get(self.hosts)
        check("GetParameter StringList",
              p["Type"] == "StringList" and p["Value"] == "a.example,b.example,c.example", p)

        plain = self.get(self.password, WithDecryption=True)
        check("GetParameter SecureString WithDecryption=True returns the plaintext",
              plain["Value"] == "hunter2" and plain["Type"] == "SecureString", plain)
        sealed = self.get(self.password, WithDecryption=False)
        check("GetParameter SecureString WithDecryption=False returns ciphertext, not the plaintext",
              sealed["Value"] not in ("", "hunter2") and "hunter2" not in sealed["Value"], sealed)
        sealed2 = self.get(self.password)
        check_eq("GetParameter SecureString without WithDecryption returns the same ciphertext",
                 sealed2["Value"], sealed["Value"])
        p = self.get(self.token, WithDecryption=True)
        check_eq("GetParameter SecureString with explicit KeyId, decrypted", p["Value"], "s3cr3t-t0ken")
        p = self.get(self.token, WithDecryption=False)
        check("GetParameter SecureString with explicit KeyId, not decrypted",
              p["Value"] not in ("", "s3cr3t-t0ken"), p)

        expect_error("GetParameter unknown name: ParameterNotFound",
                     self.ex.ParameterNotFound, ssm.get_parameter, Name=f"{self.p}/nope")
        expect_error("GetParameter name:99: ParameterVersionNotFound",
                     self.ex.ParameterVersionNotFound, ssm.get_parameter, Name=self.url_name + ":99")
        expect_error("GetParameter name:unknownlabel: ParameterNotFound",
                     self.ex.ParameterNotFound, ssm.get_parameter, Name=self.url_name + ":nolabel")

    # GetParameters ---------------------------------------------------------

    def get_parameters(self):
        missing = f"{self.p}/app/missing"
        r = self.ssm.get_parameters(Names=[self.url_name, self.hosts, self.url_name, missing])
        check_eq("GetParameters: found names in name order, duplicates once",
                 [(p["Name"], p["Version"]) for p in r["Parameters"]], [(self.hosts, 1), (self.url_name, 2)])
        check_eq("GetParameters: unknown name in InvalidParameters", r["InvalidParameters"], [missing])

        r = self.ssm.get_parameters(Names=[self.password, self.url_name + ":1"], WithDecryption=True)
        got = {p["Name"]: (p["Value"], p.get("Selector")) for p in r["Parameters"]}
        check_eq("GetParameters WithDecryption and a :version selector",
                 (got, r["InvalidParameters"]),
                 ({self.password: ("hunter2", None), self.url_name: ("https://example.invalid/v1", ":1")}, []))

    # GetParametersByPath ---------------------------------------------------

    def get_parameters_by_path(self):
        ssm = self.ssm
        app = f"{self.p}/app"
        r = ssm.get_parameters_by_path(Path=app)
        check_eq("GetParametersByPath one level",
                 sorted(p["Name"] for p in r["Parameters"]), sorted([self.url_name, self.hosts, self.big]))
        check("GetParametersByPath: no NextToken on the last page", "NextToken" not in r, r.get("NextToken"))

        r = ssm.get_parameters_by_path(Path=app, Recursive=True)
        check_eq("GetParametersByPath Recursive",
                 sorted(p["Name"] for p in r["Parameters"]),
                 sorted([self.url_name, self.hosts, self.big, self.password, self.token]))

        r = ssm.get_parameters_by_path(Path=app, Recursive=True, WithDecryption=True,
                                       ParameterFilters=[{"Key": "Type", "Option": "Equals", "Values": ["SecureString"]}])
        check_eq("GetParametersByPath ParameterFilters Type=SecureString, WithDecryption",
                 sorted((p["Name"], p["Value"]) for p in r["Parameters"]),
                 sorted([(self.password, "hunter2"), (self.token, "s3cr3t-t0ken")]))

        pages = list(ssm.get_paginator("get_parameters_by_path").paginate(
            Path=self.p, Recursive=True, PaginationConfig={"PageSize": 1}))
        names = [p["Name"] for page in pages for p in page["Parameters"]]
        check("GetParametersByPath paginator PageSize=1: one parameter a page",
              all(len(page["Parameters"]) <= 1 for page in pages) and len(pages) >= 5,
              [len(page["Parameters"]) for page in pages])
        check_eq("GetParametersByPath paginator PageSize=1 collects every parameter once",
                 sorted(names), sorted([self.url_name, self.hosts, self.big, self.password, self.token]))
        check("GetParametersByPath paginator: only the last page lacks NextToken",
              all("NextToken" in page for page in pages[:-1]) and "NextToken" not in pages[-1],
              [("NextToken" in page) for page in pages])

        expect_error("GetParametersByPath with a forged NextToken: InvalidNextToken",
                     self.ex.InvalidNextToken, ssm.get_parameters_by_path, Path=app, NextToken="forged")

    # DescribeParameters ----------------------------------------------------

    def describe_parameters(self):
        ssm = self.ssm
        r = ssm.describe_parameters(ParameterFilters=[
            {"Key": "Name", "Option": "BeginsWith", "Values": [f"{self.p}/app/db/"]}])
        got = sorted((m["Name"], m["Type"], m.get("KeyId"), m["Version"]) for m in r["Parameters"])
        check_eq("DescribeParameters Name BeginsWith (SecureString KeyId alias/aws/ssm)", got,
                 [(self.password, "SecureString", "alias/aws/ssm", 1), (self.token, "SecureString", "alias/aws/ssm", 1)])

        r = ssm.describe_parameters(ParameterFilters=[
            {"Key": "Name", "Option": "BeginsWith", "Values": [self.p]},
            {"Key": "tag:team", "Values": ["core"]}])
        check_eq("DescribeParameters tag:team = core", [m["Name"] for m in r["Parameters"]], [self.url_name])

        r = ssm.describe_parameters(ParameterFilters=[
            {"Key": "Name", "Option": "BeginsWith", "Values": [self.p]},
            {"Key": "Tier", "Values": ["Advanced"]}])
        check_eq("DescribeParameters Tier = Advanced", [(m["Name"], m["Tier"]) for m in r["Parameters"]],
                 [(self.big, "Advanced")])

        pages = list(ssm.get_paginator("describe_parameters").paginate(
            ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [self.p]}],
            PaginationConfig={"PageSize": 1}))
        metas = [m for page in pages for m in page["Parameters"]]
        check("DescribeParameters paginator PageSize=1: one parameter a page",
              all(len(page["Parameters"]) <= 1 for page in pages) and len(pages) >= 5,
              [len(page["Parameters"]) for page in pages])
        check_eq("DescribeParameters paginator collects every parameter once",
                 sorted(m["Name"] for m in metas),
                 sorted([self.url_name, self.hosts, self.big, self.password, self.token]))
        url = next((m for m in metas if m["Name"] == self.url_name), {})
        check("DescribeParameters metadata of the String parameter",
              url.get("Description") == "service URL" and url.get("Version") == 2 and url.get("Tier") == "Standard"
              and url.get("Type") == "String" and url.get("ARN") == self.arn(self.url_name)
              and url.get("DataType") == "text" and url.get("Policies") == [] and "KeyId" not in url
              and url.get("LastModifiedUser") == f"arn:aws:iam::{ACCOUNT}:user/admin", url)
        check("DescribeParameters LastModifiedDate values are datetimes",
              metas and all(is_recent_datetime(m.get("LastModifiedDate")) for m in metas),
              [repr(m.get("LastModifiedDate")) for m in metas])

    # LabelParameterVersion, UnlabelParameterVersion, GetParameterHistory -----

    def labels_and_history(self):
        ssm = self.ssm
        r = ssm.label_parameter_version(Name=self.url_name, ParameterVersion=1, Labels=["stable", "1bad"])
        check_eq("LabelParameterVersion version 1: the invalid label comes back in InvalidLabels",
                 (r["ParameterVersion"], r["InvalidLabels"]), (1, ["1bad"]))
        p = self.get(self.url_name + ":stable")
        check("GetParameter name:label",
              p["Version"] == 1 and p["Selector"] == ":stable" and p["Value"] == "https://example.invalid/v1", p)

        r = ssm.label_parameter_version(Name=self.url_name, Labels=["stable", "current"])
        check_eq("LabelParameterVersion without ParameterVersion labels the latest (moves stable to 2)",
                 (r["ParameterVersion"], r["InvalidLabels"]), (2, []))
        p = self.get(self.url_name + ":stable")
        check_eq("GetParameter name:label after the label moved", (p["Version"], p["Value"]),
                 (2, "https://example.invalid/v2"))

        pages = list(ssm.get_paginator("get_parameter_history").paginate(
            Name=self.url_name, PaginationConfig={"PageSize": 1}))
        hist = [h for page in pages for h in page["Parameters"]]
        check_eq("GetParameterHistory paginator PageSize=1: versions oldest first, labels per version",
                 [(h["Version"], sorted(h["Labels"]), h["Value"]) for h in hist],
                 [(1, [], "https://example.invalid/v1"), (2, ["current", "stable"], "https://example.invalid/v2")])
        check("GetParameterHistory paginator: one version a page", len(pages) == 2 and
              all(len(page["Parameters"]) == 1 for page in pages), [len(page["Parameters"]) for page in pages])
        check("GetParameterHistory entries: Description, user, datetime, Policies",
              len(hist) == 2 and hist[0].get("Description") == "service URL"
              and all(h.get("LastModifiedUser") == f"arn:aws:iam::{ACCOUNT}:user/admin"
                      and is_recent_datetime(h.get("LastModifiedDate")) and h.get("Policies") == []
                      and h.get("Type") == "String" and h.get("Name") == self.url_name for h in hist), hist)

        r = ssm.get_parameter_history(Name=self.arn(self.password))
        check("GetParameterHistory by ARN, SecureString without decryption",
              [h["Version"] for h in r["Parameters"]] == [1]
              and r["Parameters"][0]["Value"] not in ("", "hunter2")
              and r["Parameters"][0].get("KeyId") == "alias/aws/ssm", r["Parameters"])
        r = ssm.get_parameter_history(Name=self.password, WithDecryption=True)
        check_eq("GetParameterHistory WithDecryption", [h["Value"] for h in r["Parameters"]], ["hunter2"])

        expect_error("GetParameterHistory unknown name: ParameterNotFound",
                     self.ex.ParameterNotFound, ssm.get_parameter_history, Name=f"{self.p}/nope")

        r = ssm.unlabel_parameter_version(Name=self.url_name, ParameterVersion=2, Labels=["stable", "notthere"])
        check_eq("UnlabelParameterVersion: removed and invalid labels",
                 (r["RemovedLabels"], r["InvalidLabels"]), (["stable"], ["notthere"]))
        expect_error("GetParameter name:label after UnlabelParameterVersion: ParameterNotFound",
                     self.ex.ParameterNotFound, ssm.get_parameter, Name=self.url_name + ":stable")
        r = ssm.get_parameter_history(Name=self.url_name)
        check_eq("GetParameterHistory after UnlabelParameterVersion",
                 [(h["Version"], h["Labels"]) for h in r["Parameters"]], [(1, []), (2, ["current"])])

        expect_error("LabelParameterVersion version 99: ParameterVersionNotFound",
                     self.ex.ParameterVersionNotFound, ssm.label_parameter_version,
                     Name=self.url_name, ParameterVersion=99, Labels=["later"])
        expect_error("LabelParameterVersion unknown name: ParameterNotFound",
                     self.ex.ParameterNotFound, ssm.label_parameter_version,
                     Name=f"{self.p}/nope", Labels=["later"])

        ssm.put_parameter(Name=self.labels, Value="v", Type="String")
        ten = [f"l{i}" for i in range(10)]
        r = ssm.label_parameter_version(Name=self.labels, ParameterVersion=1, Labels=ten)
        check_eq("LabelParameterVersion 10 labels on one version", r["InvalidLabels"], [])
        expect_error("LabelParameterVersion an 11th label: ParameterVersionLabelLimitExceeded",
                     self.ex.ParameterVersionLabelLimitExceeded, ssm.label_parameter_version,
                     Name=self.labels, ParameterVersion=1, Labels=["l10"])
        r = ssm.get_parameter_history(Name=self.labels)
        check_eq("the refused 11th label was not added",
                 [sorted(h["Labels"]) for h in r["Parameters"]], [sorted(ten)])

    # AddTagsToResource, ListTagsForResource, RemoveTagsFromResource ----------

    def tags_ops(self):
        ssm = self.ssm
        check_eq("ListTagsForResource: the tags given on create, sorted by key",
                 self.tags(self.url_name), [("env", "ci"), ("team", "core")])

        r = ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=self.url_name,
                                     Tags=[{"Key": "owner", "Value": "alice"}, {"Key": "team", "Value": "platform"}])
        check("AddTagsToResource returns an empty result",
              {k: v for k, v in r.items() if k != "ResponseMetadata"} == {}, r)
        check_eq("ListTagsForResource after AddTagsToResource (new key added, existing key replaced)",
                 self.tags(self.url_name), [("env", "ci"), ("owner", "alice"), ("team", "platform")])

        r = ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=self.url_name,
                                          TagKeys=["env", "no-such-key"])
        check("RemoveTagsFromResource returns an empty result",
              {k: v for k, v in r.items() if k != "ResponseMetadata"} == {}, r)
        check_eq("ListTagsForResource after RemoveTagsFromResource",
                 self.tags(self.url_name), [("owner", "alice"), ("team", "platform")])

        r = ssm.describe_parameters(ParameterFilters=[
            {"Key": "Name", "Option": "BeginsWith", "Values": [self.p]},
            {"Key": "tag:team", "Values": ["core"]}])
        check_eq("DescribeParameters tag:team = core after retagging finds nothing", r["Parameters"], [])

        ssm.put_parameter(Name=self.tagged, Value="v", Type="String", Tags=[{"Key": "k0", "Value": "v0"}])
        fifty_one = [{"Key": f"k{i}", "Value": f"v{i}"} for i in range(51)]
        expect_error("AddTagsToResource making 51 tags: TooManyTagsError",
                     self.ex.TooManyTagsError, ssm.add_tags_to_resource,
                     ResourceType="Parameter", ResourceId=self.tagged, Tags=fifty_one)
        check_eq("the refused AddTagsToResource added no tag", self.tags(self.tagged), [("k0", "v0")])
        expect_error("PutParameter with 51 Tags: TooManyTagsError",
                     self.ex.TooManyTagsError, ssm.put_parameter,
                     Name=f"{self.p}/toomanytags", Value="v", Type="String", Tags=fifty_one)
        expect_error("the refused PutParameter stored nothing",
                     self.ex.ParameterNotFound, ssm.get_parameter, Name=f"{self.p}/toomanytags")

        expect_error("ListTagsForResource of a missing parameter: InvalidResourceId",
                     self.ex.InvalidResourceId, ssm.list_tags_for_resource,
                     ResourceType="Parameter", ResourceId=f"{self.p}/nope")
        expect_error("ListTagsForResource ResourceType Document: InvalidResourceType",
                     self.ex.InvalidResourceType, ssm.list_tags_for_resource,
                     ResourceType="Document", ResourceId="some-document")

    # Parameter policies ------------------------------------------------------

    def policies(self):
        ssm = self.ssm
        name = f"{self.p}/app/policied"
        policies = [
            {"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": "2099-01-01T00:00:00.000Z"}},
            {"Type": "ExpirationNotification", "Version": "1.0", "Attributes": {"Before": "15", "Unit": "Days"}},
            {"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "20", "Unit": "Days"}},
        ]
        r = ssm.put_parameter(Name=name, Value="v1", Type="String", Tier="Advanced", Policies=json.dumps(policies))
        check_eq("PutParameter with three policies: Advanced tier", r["Tier"], "Advanced")
        ssm.put_parameter(Name=name, Value="v2", Type="String", Overwrite=True)
        r = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])
        got = r["Parameters"][0]["Policies"] if r["Parameters"] else []
        check_eq("DescribeParameters: the policies kept by an overwrite without Policies, in order",
                 [(p["PolicyType"], p["PolicyStatus"]) for p in got],
                 [("Expiration", "Pending"), ("ExpirationNotification", "Pending"), ("NoChangeNotification", "Pending")])
        check_eq("DescribeParameters: PolicyText is each policy's JSON",
                 [json.loads(p["PolicyText"]) for p in got], policies)
        r = ssm.get_parameter_history(Name=name)
        check_eq("GetParameterHistory: policies on each version", [len(h["Policies"]) for h in r["Parameters"]], [3, 3])
        ssm.put_parameter(Name=name, Value="v3", Type="String", Overwrite=True, Policies="[]")
        r = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])
        check_eq("PutParameter with Policies=[] removes them", r["Parameters"][0]["Policies"], [])
        expect_error("PutParameter an unknown policy type: InvalidPolicyTypeException", self.ex.InvalidPolicyTypeException,
                     ssm.put_parameter, Name=name, Value="v", Type="String", Overwrite=True, Tier="Advanced",
                     Policies='[{"Type":"Explode","Version":"1.0","Attributes":{}}]')
        expect_error("PutParameter a bad attribute: InvalidPolicyAttributeException", self.ex.InvalidPolicyAttributeException,
                     ssm.put_parameter, Name=name, Value="v", Type="String", Overwrite=True, Tier="Advanced",
                     Policies='[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"x","Unit":"Days"}}]')
        expect_error("PutParameter two Expiration policies: IncompatiblePolicyException", self.ex.IncompatiblePolicyException,
                     ssm.put_parameter, Name=name, Value="v", Type="String", Overwrite=True, Tier="Advanced",
                     Policies=json.dumps([policies[0], policies[0]]))
        expect_error("PutParameter eleven policies: PoliciesLimitExceededException", self.ex.PoliciesLimitExceededException,
                     ssm.put_parameter, Name=name, Value="v", Type="String", Overwrite=True, Tier="Advanced",
                     Policies=json.dumps([policies[0]] * 11))
        ssm.delete_parameter(Name=name)

    # DeleteParameter, DeleteParameters ---------------------------------------

    def deletes(self):
        ssm = self.ssm
        r = ssm.delete_parameter(Name=self.url_name)
        check("DeleteParameter returns an empty result",
              {k: v for k, v in r.items() if k != "ResponseMetadata"} == {}, r)
        expect_error("GetParameter after DeleteParameter: ParameterNotFound",
                     self.ex.ParameterNotFound, ssm.get_parameter, Name=self.url_name)
        expect_error("DeleteParameter of a missing parameter: ParameterNotFound",
                     self.ex.ParameterNotFound, ssm.delete_parameter, Name=self.url_name)

        missing = f"{self.p}/app/missing"
        r = ssm.delete_parameters(Names=[self.hosts, self.big, missing, self.hosts])
        check_eq("DeleteParameters: DeletedParameters and InvalidParameters",
                 (r["DeletedParameters"], r["InvalidParameters"]), ([self.hosts, self.big], [missing]))
        r = ssm.get_parameters(Names=[self.hosts, self.big, self.password])
        check_eq("GetParameters after DeleteParameters",
                 ([p["Name"] for p in r["Parameters"]], sorted(r["InvalidParameters"])),
                 ([self.password], sorted([self.hosts, self.big])))

        r = ssm.delete_parameters(Names=[self.password, self.token, self.labels, self.tagged])
        check_eq("DeleteParameters of the rest", (sorted(r["DeletedParameters"]), r["InvalidParameters"]),
                 (sorted([self.password, self.token, self.labels, self.tagged]), []))
        r = ssm.get_parameters_by_path(Path=self.p, Recursive=True)
        check_eq("GetParametersByPath finds nothing after the deletes", r["Parameters"], [])

    # Operations Vane does not serve ----------------------------------------

    def unknown_operation(self):
        # A real SSM operation boto3 knows, which Vane does not serve.
        try:
            out = self.ssm.get_service_setting(SettingId="/ssm/parameter-store/default-parameter-tier")
            fail("GetServiceSetting (not served): ClientError UnknownOperationException", f"the call succeeded: {out!r}")
        except botocore.exceptions.ClientError as e:
            check_eq("GetServiceSetting (not served): ClientError UnknownOperationException",
                     (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]),
                     ("UnknownOperationException", 400))

        # An operation no SDK knows: a raw JSON 1.1 request.
        for target in ("AmazonSSM.NoSuchOperation", "AmazonSSM.SendCommand", "AmazonEC2.DescribeInstances"):
            # Signed with the Vane key, as an SDK would sign it.
            aws_req = botocore.awsrequest.AWSRequest(method="POST", url=self.url + "/", data=b"{}", headers={
                "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"})
            botocore.auth.SigV4Auth(botocore.credentials.Credentials(self.key_id, self.secret), "ssm", REGION).add_auth(aws_req)
            req = urllib.request.Request(self.url + "/", data=b"{}", method="POST", headers=dict(aws_req.headers.items()))
            name = f"raw POST X-Amz-Target {target}: UnknownOperationException"
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    fail(name, f"status {resp.status}: {resp.read()!r}")
            except urllib.error.HTTPError as e:
                body = e.read()
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = {}
                check(name,
                      e.code == 400 and doc.get("__type") == "UnknownOperationException"
                      and e.headers.get("X-Amzn-ErrorType") == "UnknownOperationException"
                      and bool(doc.get("message")) and e.headers.get("Content-Type") == "application/x-amz-json-1.1",
                      f"status {e.code}, X-Amzn-ErrorType {e.headers.get('X-Amzn-ErrorType')!r}, "
                      f"Content-Type {e.headers.get('Content-Type')!r}, body {body!r}")

    def run(self):
        print(f"parameters under {self.p}", flush=True)
        section("PutParameter", self.put_parameter)
        section("GetParameter", self.get_parameter)
        section("GetParameters", self.get_parameters)
        section("GetParametersByPath", self.get_parameters_by_path)
        section("DescribeParameters", self.describe_parameters)
        section("LabelParameterVersion, UnlabelParameterVersion, GetParameterHistory", self.labels_and_history)
        section("AddTagsToResource, ListTagsForResource, RemoveTagsFromResource", self.tags_ops)
        section("Parameter policies", self.policies)
        section("DeleteParameter, DeleteParameters", self.deletes)
        section("operations Vane does not serve", self.unknown_operation)


def main():
    print(f"boto3 {boto3.__version__} against vane serve (SSM protocol)", flush=True)
    # No shared AWS configuration from the machine: everything is given.
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM"):
        os.environ.pop(var, None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

    server = None
    try:
        if len(sys.argv) > 1:
            # A running server: the access key comes from VANE_TOKEN.
            url = sys.argv[1]
            token = os.environ.get("VANE_TOKEN", "")
        else:
            server = Server()
            url = server.start()
            # The admin key the server created on first start, as the
            # only credential.
            with open(os.path.join(server.tmp, "data", "admin.key")) as f:
                token = f.read().strip()
        key_id, _, secret = token.partition(".")
        print(f"vane serving on {url}; signing with access key {key_id}", flush=True)
        Checks(url, key_id, secret).run()
    except Exception as e:  # noqa: BLE001 - counted, then the summary
        fail("setup", f"{type(e).__name__}: {e}")
    finally:
        if server is not None:
            status = server.stop()
            if status is not None:
                if not check("server stopped cleanly on SIGTERM", status == 0, f"exit status {status}"):
                    print(server.log(), flush=True)
            elif failed:
                print(server.log(), flush=True)
        print(f"boto3: {passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
