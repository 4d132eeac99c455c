#!/usr/bin/env python3
"""The AppConfig data plane (AppConfigData) Vane serves, driven with boto3.

Usage: python3 .ci/appconfig-boto3-test.py [URL]

Without URL, builds vane, starts `vane serve --addr 127.0.0.1:0` over a
temporary data directory (as .ci/boto3-test.py does), reads the server's
`url=` log line, runs the checks against it and stops the server with
SIGTERM (it must exit 0). With URL, runs the checks against that server
with the access key in VANE_TOKEN (ID.SECRET); vane is still built, for
its CLI.

Parameters and flags are written with the vane CLI under an application
named uniquely per run; the `appconfigdata` client then starts sessions and
polls: content and headers, empty polls, a change between polls, the
minimum poll interval, and the errors with the members boto3 exposes
(Error.Code, Reason, Details, ResourceType). The last line is
"boto3 appconfigdata: N passed, M failed"; the exit status is 1 if any
check failed.
"""

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
import uuid

import boto3
import botocore.config
import botocore.exceptions

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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


def section(name, fn, *args):
    """Runs a group of checks; an unexpected exception is one failure and
    does not stop the other groups."""
    print(f"-- {name}", flush=True)
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001
        fail(f"{name} (unexpected exception)", f"{type(e).__name__}: {e}\n{traceback.format_exc()}")


def raises(name, fn, **kwargs):
    """Calls fn, which must raise a botocore ClientError; returns it, or
    None after counting a failure."""
    try:
        out = fn(**kwargs)
    except botocore.exceptions.ClientError as e:
        return e
    except Exception as e:  # noqa: BLE001 - any other failure is a failed check
        fail(name, f"want a ClientError, got {type(e).__name__}: {e}")
        return None
    fail(name, f"want an error, the call succeeded: {out!r}")
    return None


def error_view(e):
    """What a ClientError carries, for checks and failure messages: the code,
    the status, and the modeled members botocore puts at the top of the
    response (Reason, Details, ResourceType)."""
    r = e.response
    return {
        "Code": r.get("Error", {}).get("Code"),
        "Message": r.get("Error", {}).get("Message"),
        "Status": r.get("ResponseMetadata", {}).get("HTTPStatusCode"),
        "Reason": r.get("Reason"),
        "Details": r.get("Details"),
        "ResourceType": r.get("ResourceType"),
    }


def token_problem(problem):
    """The Details of a BadRequestException about the configuration token."""
    return {"InvalidParameters": {"ConfigurationToken": {"Problem": problem}}}


# ---------------------------------------------------------------------------
# The server


class Server:
    """`vane serve` on a free port over a temporary data directory, and the
    vane binary for the CLI."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="vane-appconfig-boto3-")
        self.binary = os.path.join(self.tmp, "vane")
        self.proc = None
        self.lines = []
        self.lock = threading.Lock()
        self.url = None
        self.url_seen = threading.Event()
        self.reader = None

    def build(self):
        print("building vane", flush=True)
        subprocess.run(["go", "build", "-o", self.binary, "./cmd/vane"], cwd=REPO, check=True, timeout=BUILD_TIMEOUT)

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--addr", "127.0.0.1:0", "--data", os.path.join(self.tmp, "data")],
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
    def __init__(self, url, token, binary):
        self.url = url.rstrip("/")
        self.token = token
        self.binary = binary
        key_id, _, secret = token.partition(".")
        self.acd = self.client(key_id, secret)
        # The same client without botocore's own validation, to see what
        # the server says of values the model forbids.
        self.unvalidated = self.client(key_id, secret, parameter_validation=False)
        self.app = f"b3{uuid.uuid4().hex[:10]}"  # unique per run
        self.env = "prod"
        self.base = f"/{self.app}/{self.env}/"
        self.limits = {"maxItems": 50, "timeoutMs": 1500}

    def client(self, key_id, secret, **config):
        return boto3.client(
            "appconfigdata",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            config=botocore.config.Config(
                retries={"mode": "standard", "max_attempts": 2},
                connect_timeout=5, read_timeout=30, **config),
        )

    def vane(self, *args):
        """Runs the vane CLI against the server; returns its stdout."""
        env = dict(os.environ, VANE_TOKEN=self.token)
        r = subprocess.run([self.binary, "--server", self.url, *args], env=env,
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"vane {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
        return r.stdout

    def start(self, profile, client=None, **kw):
        """StartConfigurationSession in the run's application; returns the
        initial token."""
        r = (client or self.acd).start_configuration_session(
            ApplicationIdentifier=self.app, EnvironmentIdentifier=self.env,
            ConfigurationProfileIdentifier=profile, **kw)
        return r["InitialConfigurationToken"]

    def poll(self, token, client=None):
        """GetLatestConfiguration; returns the response with Configuration
        read into bytes."""
        r = (client or self.acd).get_latest_configuration(ConfigurationToken=token)
        body = r.get("Configuration", b"")
        if hasattr(body, "read"):
            body = body.read()
        elif isinstance(body, str):
            body = body.encode()
        r["Configuration"] = body
        return r

    # Seed ------------------------------------------------------------------

    def seed(self):
        b = self.base
        self.vane("put", b + "tuning/limits", json.dumps(self.limits))
        self.vane("put", b + "tuning/yaml", "retries: 3\nbackoff:\n  base: 100ms\n")
        self.vane("put", b + "motd", "Welcome")
        self.vane("put", b + "export/columns", "id,name", "--tags", "ContentType=text/csv")
        self.vane("put", b + "db/password", "hunter2", "--type", "SecureString")
        self.vane("put", b + "features/dark-mode", "true")
        self.vane("put", b + "features/new-checkout", json.dumps({
            "default": False,
            "rules": [{"name": "beta-testers", "when_match": True,
                       "conditions": [{"action": "EQUALS", "key": "tier", "value": "beta"}]}]}))
        self.vane("put", b + "features/banner", json.dumps({
            "variants": {"classic": "classic", "holiday": "holiday-2026"}, "default_variant": "classic",
            "rules": [{"name": "de", "variant": "holiday",
                       "conditions": [{"action": "IN", "key": "country", "value": ["DE", "AT"]}]}]}))
        ok(f"seeded parameters and flags under {b} with the vane CLI")

    # Control plane ---------------------------------------------------------

    def control_plane(self):
        # CONTROL PLANE: not served yet. When Vane serves AppConfig's
        # control plane, check here with boto3.client("appconfig") that
        # list_applications lists self.app, list_environments lists prod,
        # list_configuration_profiles lists features and the freeform
        # profiles, and that start_configuration_session takes the IDs they
        # return instead of names.
        pass

    # Freeform profiles -----------------------------------------------------

    def freeform(self):
        r = self.poll(self.start("tuning/limits"))
        check("first poll of tuning/limits: the value",
              r["Configuration"] and json.loads(r["Configuration"]) == self.limits, r["Configuration"])
        check_eq("first poll: ContentType, VersionLabel (the parameter version), NextPollIntervalInSeconds",
                 (r.get("ContentType"), r.get("VersionLabel"), r.get("NextPollIntervalInSeconds")),
                 ("application/json", "1", 60))
        check("first poll: a NextPollConfigurationToken", bool(r.get("NextPollConfigurationToken")), r)
        r2 = self.poll(r["NextPollConfigurationToken"])
        check_eq("second poll, nothing changed: an empty Configuration", r2["Configuration"], b"")
        check("second poll: a new NextPollConfigurationToken",
              r2.get("NextPollConfigurationToken") not in (None, "", r["NextPollConfigurationToken"]), r2)

        # A new version of the parameter is the next poll's answer.
        self.vane("put", self.base + "tuning/limits", json.dumps({**self.limits, "maxItems": 80}), "--overwrite")
        r3 = self.poll(r2["NextPollConfigurationToken"])
        check_eq("after vane put --overwrite: the new value, VersionLabel 2",
                 (json.loads(r3["Configuration"] or b"null"), r3.get("VersionLabel")),
                 ({**self.limits, "maxItems": 80}, "2"))
        r4 = self.poll(r3["NextPollConfigurationToken"])
        check_eq("the poll after that: an empty Configuration", r4["Configuration"], b"")

        for profile, want_type, want_body in [
            ("tuning/yaml", "application/x-yaml", b"retries: 3\nbackoff:\n  base: 100ms\n"),
            ("motd", "text/plain", b"Welcome"),
            ("export/columns", "text/csv", b"id,name"),
        ]:
            r = self.poll(self.start(profile))
            check_eq(f"{profile}: ContentType and body", (r.get("ContentType"), r["Configuration"]), (want_type, want_body))

    # The features profile --------------------------------------------------

    def features(self):
        r1 = self.poll(self.start("features"))
        doc = json.loads(r1["Configuration"] or b"null")
        check_eq("features: ContentType", r1.get("ContentType"), "application/json")
        check_eq("features: the flags", sorted(doc or {}), ["banner", "dark-mode", "new-checkout"])
        check_eq("features: dark-mode", (doc["dark-mode"]["default"], doc["dark-mode"].get("rules", {})), (True, {}))
        check_eq("features: new-checkout", doc["new-checkout"], {
            "default": False,
            "rules": {"beta-testers": {"when_match": True,
                                       "conditions": [{"action": "EQUALS", "key": "tier", "value": "beta"}]}}})
        check_eq("features: banner (a string feature: boolean_type false)", doc["banner"], {
            "default": "classic", "boolean_type": False,
            "rules": {"de": {"when_match": "holiday-2026",
                             "conditions": [{"action": "IN", "key": "country", "value": ["DE", "AT"]}]}}})
        check("features: a VersionLabel", bool(r1.get("VersionLabel")), r1)

        r2 = self.poll(r1["NextPollConfigurationToken"])
        check_eq("features, second poll: an empty Configuration", r2["Configuration"], b"")

        self.vane("put", self.base + "features/dark-mode", "false", "--overwrite")
        r3 = self.poll(r2["NextPollConfigurationToken"])
        doc3 = json.loads(r3["Configuration"] or b"null") or {}
        check_eq("features after vane put dark-mode false: the new document",
                 {k: v["default"] for k, v in doc3.items()}, {"dark-mode": False, "new-checkout": False, "banner": "classic"})
        check("features after the change: a new VersionLabel",
              r3.get("VersionLabel") not in (None, "", r1.get("VersionLabel")), (r1.get("VersionLabel"), r3.get("VersionLabel")))
        r4 = self.poll(r3["NextPollConfigurationToken"])
        check_eq("features, the poll after that: an empty Configuration", r4["Configuration"], b"")

        # The spent token, once more.
        e = raises("a spent token", self.poll, token=r3["NextPollConfigurationToken"])
        if e:
            v = error_view(e)
            check("a spent token: BadRequestException 400, Reason InvalidParameters, Problem Expired or Corrupted",
                  v["Code"] == "BadRequestException" and v["Status"] == 400 and v["Reason"] == "InvalidParameters"
                  and v["Details"] in (token_problem("Expired"), token_problem("Corrupted"))
                  and isinstance(e, self.acd.exceptions.BadRequestException), v)
            print(f"     (the spent token's Problem: {(v['Details'] or {}).get('InvalidParameters', {}).get('ConfigurationToken', {}).get('Problem')})")

    # The minimum poll interval ---------------------------------------------

    def poll_interval(self):
        r1 = self.poll(self.start("features", RequiredMinimumPollIntervalInSeconds=15))
        check_eq("RequiredMinimumPollIntervalInSeconds 15: NextPollIntervalInSeconds", r1.get("NextPollIntervalInSeconds"), 15)
        check("RequiredMinimumPollIntervalInSeconds 15: the first poll has the document", len(r1["Configuration"]) > 0, r1)
        e = raises("an immediate second poll", self.poll, token=r1["NextPollConfigurationToken"])
        if e:
            check_eq("an immediate second poll: BadRequestException, InvalidParameters, PollIntervalNotSatisfied",
                     {k: v for k, v in error_view(e).items() if k != "Message"},
                     {"Code": "BadRequestException", "Status": 400, "Reason": "InvalidParameters",
                      "Details": token_problem("PollIntervalNotSatisfied"), "ResourceType": None})
            check("an immediate second poll: a message", bool(error_view(e)["Message"]), error_view(e))

        for value in (5, 86401):
            e = raises(f"RequiredMinimumPollIntervalInSeconds {value} (botocore's validation off)",
                       self.start, profile="features", client=self.unvalidated, RequiredMinimumPollIntervalInSeconds=value)
            if e:
                v = error_view(e)
                check(f"RequiredMinimumPollIntervalInSeconds {value}: BadRequestException 400",
                      v["Code"] == "BadRequestException" and v["Status"] == 400, v)

    # Errors ----------------------------------------------------------------

    def errors(self):
        e = raises("a made-up token", self.poll, token="not-a-token")
        if e:
            check_eq("a made-up token: BadRequestException, InvalidParameters, Corrupted",
                     {k: v for k, v in error_view(e).items() if k != "Message"},
                     {"Code": "BadRequestException", "Status": 400, "Reason": "InvalidParameters",
                      "Details": token_problem("Corrupted"), "ResourceType": None})

        # A real token with one character changed.
        good = self.start("features")
        forged = good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:]
        e = raises("a token with one character changed", self.poll, token=forged)
        if e:
            check_eq("a token with one character changed: Corrupted", (error_view(e)["Code"], error_view(e)["Details"]),
                     ("BadRequestException", token_problem("Corrupted")))

        for what, kw, resource in [
            ("a missing application", dict(ApplicationIdentifier=f"{self.app}-nope"), "Application"),
            ("a missing environment", dict(EnvironmentIdentifier="nope"), "Environment"),
            ("a missing profile", dict(ConfigurationProfileIdentifier="no/such/profile"), "ConfigurationProfile"),
        ]:
            args = {"ApplicationIdentifier": self.app, "EnvironmentIdentifier": self.env,
                    "ConfigurationProfileIdentifier": "features", **kw}
            e = raises(what, self.acd.start_configuration_session, **args)
            if e:
                v = error_view(e)
                check(f"{what}: ResourceNotFoundException 404, ResourceType {resource}",
                      v["Code"] == "ResourceNotFoundException" and v["Status"] == 404 and v["ResourceType"] == resource
                      and bool(v["Message"]) and isinstance(e, self.acd.exceptions.ResourceNotFoundException), v)

        # A parameter the profile names, deleted after the session started.
        self.vane("put", self.base + "short-lived", "v")
        token = self.start("short-lived")
        self.vane("rm", self.base + "short-lived")
        e = raises("a poll of a deleted parameter", self.poll, token=token)
        if e:
            v = error_view(e)
            check("a poll of a deleted parameter: ResourceNotFoundException 404",
                  v["Code"] == "ResourceNotFoundException" and v["Status"] == 404, v)

        key_id, _, _ = self.token.partition(".")
        wrong = self.client(key_id, "wrong-secret")
        e = raises("a wrong secret", wrong.start_configuration_session, ApplicationIdentifier=self.app,
                   EnvironmentIdentifier=self.env, ConfigurationProfileIdentifier="features")
        if e:
            v = error_view(e)
            check(f"a wrong secret: InvalidSignatureException ({v['Status']})",
                  v["Code"] == "InvalidSignatureException" and v["Status"] in (400, 403), v)

    # A key with a narrow policy ---------------------------------------------

    def restricted_key(self):
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "ssm:GetParameter*",
            "Resource": [f"{self.base}tuning/*", f"{self.base}features/dark-mode"]}]}
        out = json.loads(self.vane("keys", "create", f"{self.app}-reader", "--policy", json.dumps(policy), "--output", "json"))
        reader = self.client(out["key"]["id"], out["secret"])
        r = self.poll(self.start("tuning/limits", client=reader), client=reader)
        check("a key allowed /tuning/*: reads tuning/limits", json.loads(r["Configuration"] or b"null") is not None, r)
        e = raises("a key not allowed motd", self.start, profile="motd", client=reader)
        if e:
            v = error_view(e)
            check("a key not allowed motd: AccessDeniedException 403",
                  v["Code"] == "AccessDeniedException" and v["Status"] == 403 and bool(v["Message"]), v)
        r = self.poll(self.start("features", client=reader), client=reader)
        check_eq("a key allowed one flag: the features document has only that flag",
                 sorted(json.loads(r["Configuration"] or b"{}")), ["dark-mode"])
        # A token is the credential's: another key can't spend it.
        admin_token = self.start("features")
        e = raises("another key's token", self.poll, token=admin_token, client=reader)
        if e:
            v = error_view(e)
            check("another key's token: BadRequestException", v["Code"] == "BadRequestException" and v["Status"] == 400, v)

    def run(self):
        print(f"application {self.app}, environment {self.env}", flush=True)
        section("seed", self.seed)
        section("control plane (not served yet)", self.control_plane)
        section("freeform profiles", self.freeform)
        section("the features profile", self.features)
        section("RequiredMinimumPollIntervalInSeconds", self.poll_interval)
        section("errors", self.errors)
        section("a key with a narrow policy", self.restricted_key)


def main():
    print(f"boto3 {boto3.__version__} against vane serve (AppConfig data plane)", flush=True)
    # No shared AWS configuration from the machine: everything is given.
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_APPCONFIGDATA"):
        os.environ.pop(var, None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

    server = Server()
    served = False
    try:
        server.build()
        if len(sys.argv) > 1:
            # A running server: the access key comes from VANE_TOKEN.
            url = sys.argv[1]
            token = os.environ.get("VANE_TOKEN", "")
        else:
            url = server.start()
            served = True
            # The admin key the server created on first start, as the
            # only credential.
            with open(os.path.join(server.tmp, "data", "admin.key")) as f:
                token = f.read().strip()
        print(f"vane serving on {url}; signing with access key {token.partition('.')[0]}", flush=True)
        Checks(url, token, server.binary).run()
    except Exception as e:  # noqa: BLE001 - counted, then the summary
        fail("setup", f"{type(e).__name__}: {e}")
    finally:
        status = server.stop()
        if served:
            if not check("server stopped cleanly on SIGTERM", status == 0, f"exit status {status}"):
                print(server.log(), flush=True)
            elif failed:
                print(server.log(), flush=True)
        print(f"boto3 appconfigdata: {passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
