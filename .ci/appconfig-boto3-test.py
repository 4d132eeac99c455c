#!/usr/bin/env python3
"""AppConfig as Vane serves it, data plane and control plane, driven with boto3.

Usage: python3 .ci/appconfig-boto3-test.py [URL]

Without URL, builds vane, starts `vane serve --addr 127.0.0.1:0` over a
temporary data directory (as .ci/boto3-test.py does), reads the server's
`url=` log line, runs the checks against it and stops the server with
SIGTERM (it must exit 0). With URL, runs the checks against that server
with the access key in VANE_TOKEN (ID.SECRET); vane is still built, for
its CLI.

Parameters and flags are written with the vane CLI under an application
named uniquely per run (and a second one, for listings and policies).

The `appconfigdata` client starts sessions and polls: content and headers,
empty polls, a change between polls, the minimum poll interval, and the
errors with the members boto3 exposes (Error.Code, Reason, Details,
ResourceType).

The `appconfig` client reads the applications, environments and
configuration profiles the tree defines, by name and by ID, and the data
plane takes those IDs. After the data plane's checks (which expect the
seeded values), it writes: hosted configuration versions (labels,
LatestVersionNumber, a new profile, content Vane refuses), deployment
strategies, deployments (one with a strategy of no duration and no bake,
waited on until COMPLETE, seen by a data plane session, then reverted with
AllowRevert; one with AppConfig.AllAtOnce, stopped while it bakes), a
`features` deployment that writes and creates flags and its revert, the
operations Vane does not serve (UnknownOperationException), the
paginators, and a key with a narrow policy.

The last line is "boto3 appconfig and appconfigdata: N passed, M failed";
the exit status is 1 if any check failed.
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
DEPLOY_TIMEOUT = 10  # seconds for a deployment without duration or bake to complete

# An AppConfig ID: seven characters of [0-9a-z].
ID_RE = re.compile(r"[0-9a-z]{7}")

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


def pick(r, *keys):
    """The members keys of a response, as a tuple."""
    return tuple(r.get(k) for k in keys)


def status(r):
    """The HTTP status of a response."""
    return r["ResponseMetadata"]["HTTPStatusCode"]


def read(r):
    """The Content of a hosted version response, read into bytes."""
    body = r.get("Content", b"")
    return body.read() if hasattr(body, "read") else body


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
        self.ac = self.client(key_id, secret, service="appconfig")  # the control plane
        self.app = f"b3{uuid.uuid4().hex[:10]}"  # unique per run
        self.app2 = self.app + "x"  # a second application, for listings and policies
        self.env = "prod"
        self.base = f"/{self.app}/{self.env}/"
        self.limits = {"maxItems": 50, "timeoutMs": 1500}
        # The contents of the hosted versions of tuning/limits.
        self.hosted1 = {"maxItems": 100, "timeoutMs": 1500}
        self.hosted2 = {"maxItems": 120, "timeoutMs": 1000}
        self.ids = {}  # the control plane's IDs, by control_plane
        self.strategy = None  # the custom strategy's ID, by strategies

    def client(self, key_id, secret, service="appconfigdata", **config):
        return boto3.client(
            service,
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
        # A second environment and a second application, for the control
        # plane's listings.
        self.vane("put", f"/{self.app}/staging/motd", "Welcome to staging")
        self.vane("put", f"/{self.app2}/prod/motd", "Welcome elsewhere")
        ok(f"seeded parameters and flags under {b}, /{self.app}/staging/ and /{self.app2}/prod/ with the vane CLI")

    # Control plane: the objects the tree defines ---------------------------

    def control_plane(self):
        ac = self.ac
        apps = ac.list_applications()["Items"]
        names = [a["Name"] for a in apps]
        check(f"ListApplications: {self.app} and {self.app2}, not vane",
              self.app in names and self.app2 in names and "vane" not in names, names)
        app_id = next((a["Id"] for a in apps if a["Name"] == self.app), "")
        check("ListApplications: an ID of seven [0-9a-z]", ID_RE.fullmatch(app_id), apps)
        check_eq("GetApplication by ID", pick(ac.get_application(ApplicationId=app_id), "Id", "Name"), (app_id, self.app))
        check_eq("GetApplication by name: the same ID", pick(ac.get_application(ApplicationId=self.app), "Id", "Name"), (app_id, self.app))

        envs = ac.list_environments(ApplicationId=app_id)["Items"]
        check_eq("ListEnvironments: prod and staging, READY_FOR_DEPLOYMENT, no monitors",
                 [pick(e, "Name", "ApplicationId", "State", "Monitors") for e in envs],
                 [("prod", app_id, "READY_FOR_DEPLOYMENT", []), ("staging", app_id, "READY_FOR_DEPLOYMENT", [])])
        env_id = next((e["Id"] for e in envs if e["Name"] == "prod"), "")
        check("ListEnvironments: IDs of seven [0-9a-z], one per environment",
              all(ID_RE.fullmatch(e["Id"]) for e in envs) and len({e["Id"] for e in envs}) == 2, envs)
        check_eq("GetEnvironment by name", pick(ac.get_environment(ApplicationId=self.app, EnvironmentId="prod"), "Id", "Name", "State"),
                 (env_id, "prod", "READY_FOR_DEPLOYMENT"))
        check_eq("GetEnvironment by IDs", pick(ac.get_environment(ApplicationId=app_id, EnvironmentId=env_id), "Id", "Name", "ApplicationId"),
                 (env_id, "prod", app_id))

        profiles = ac.list_configuration_profiles(ApplicationId=app_id)["Items"]
        types = {p["Name"]: p["Type"] for p in profiles}
        check_eq("ListConfigurationProfiles: features and the parameters of every environment, by name",
                 {n: types.get(n) for n in ("features", "features/dark-mode", "tuning/limits", "motd", "export/columns")},
                 {"features": "AWS.AppConfig.FeatureFlags", "features/dark-mode": "AWS.Freeform", "tuning/limits": "AWS.Freeform",
                  "motd": "AWS.Freeform", "export/columns": "AWS.Freeform"})
        check("ListConfigurationProfiles: in name order, hosted, no validators, IDs of seven [0-9a-z]",
              [p["Name"] for p in profiles] == sorted(p["Name"] for p in profiles)
              and all(p["LocationUri"] == "hosted" and p["ValidatorTypes"] == [] and p["ApplicationId"] == app_id
                      and ID_RE.fullmatch(p["Id"]) for p in profiles), profiles)
        print(f"     (profiles: {', '.join(p['Name'] for p in profiles)})")
        flags = ac.list_configuration_profiles(ApplicationId=self.app, Type="AWS.AppConfig.FeatureFlags")["Items"]
        check_eq("ListConfigurationProfiles Type=AWS.AppConfig.FeatureFlags: features alone",
                 [pick(p, "Name", "Type") for p in flags], [("features", "AWS.AppConfig.FeatureFlags")])
        freeform = ac.list_configuration_profiles(ApplicationId=self.app, Type="AWS.Freeform")["Items"]
        check_eq("ListConfigurationProfiles Type=AWS.Freeform: all but features",
                 [p["Name"] for p in freeform], [p["Name"] for p in profiles if p["Name"] != "features"])
        limits_id = next((p["Id"] for p in profiles if p["Name"] == "tuning/limits"), "")
        features_id = next((p["Id"] for p in profiles if p["Name"] == "features"), "")
        r = ac.get_configuration_profile(ApplicationId=app_id, ConfigurationProfileId=limits_id)
        check_eq("GetConfigurationProfile by ID", pick(r, "Id", "Name", "ApplicationId", "LocationUri", "Type", "Validators"),
                 (limits_id, "tuning/limits", app_id, "hosted", "AWS.Freeform", []))
        r = ac.get_configuration_profile(ApplicationId=self.app, ConfigurationProfileId="features")
        check_eq("GetConfigurationProfile features by name", pick(r, "Id", "Name", "Type"),
                 (features_id, "features", "AWS.AppConfig.FeatureFlags"))
        self.ids = {"app": app_id, "prod": env_id, "staging": next((e["Id"] for e in envs if e["Name"] == "staging"), ""),
                    "limits": limits_id, "features": features_id}

        # The data plane takes the IDs the control plane returns.
        token = self.acd.start_configuration_session(ApplicationIdentifier=app_id, EnvironmentIdentifier=env_id,
                                                     ConfigurationProfileIdentifier=limits_id)["InitialConfigurationToken"]
        r = self.poll(token)
        check_eq("StartConfigurationSession with the control plane's IDs: the value of tuning/limits",
                 json.loads(r["Configuration"] or b"null"), self.limits)

        for what, fn, kw, resource in [
            ("GetApplication of a missing application", ac.get_application, dict(ApplicationId=self.app + "-nope"), "Application"),
            ("GetEnvironment of a missing environment", ac.get_environment, dict(ApplicationId=app_id, EnvironmentId="nope"), "Environment"),
            ("GetConfigurationProfile of a missing profile", ac.get_configuration_profile,
             dict(ApplicationId=app_id, ConfigurationProfileId="no/such/profile"), "ConfigurationProfile"),
            ("GetConfigurationProfile of a missing ID", ac.get_configuration_profile,
             dict(ApplicationId=app_id, ConfigurationProfileId="zzzzzzz"), "ConfigurationProfile"),
            ("GetApplication of vane (Vane's settings)", ac.get_application, dict(ApplicationId="vane"), "Application"),
        ]:
            e = raises(what, fn, **kw)
            if e:
                v = error_view(e)
                check(f"{what}: ResourceNotFoundException 404 with a message",
                      v["Code"] == "ResourceNotFoundException" and v["Status"] == 404 and bool(v["Message"])
                      and isinstance(e, ac.exceptions.ResourceNotFoundException), v)
        # The model's ResourceNotFoundException has ResourceName; Vane sends
        # the data plane's ResourceType (doc/aws-compat.md says so), which
        # the appconfig client does not parse.
        print(f"     (ResourceName of the last one: {e.response.get('ResourceName') if e else None!r})")

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

    # Control plane: hosted configuration versions --------------------------

    def hosted_versions(self):
        ac, ids = self.ac, self.ids
        r = ac.create_hosted_configuration_version(
            ApplicationId=self.app, ConfigurationProfileId=ids["limits"], Content=json.dumps(self.hosted1).encode(),
            ContentType="application/json", VersionLabel="v2", Description="more items")
        check_eq("CreateHostedConfigurationVersion: status 201", status(r), 201)
        check_eq("CreateHostedConfigurationVersion: version 1 with its label, description and content type",
                 pick(r, "ApplicationId", "ConfigurationProfileId", "VersionNumber", "VersionLabel", "Description", "ContentType"),
                 (ids["app"], ids["limits"], 1, "v2", "more items", "application/json"))
        check_eq("CreateHostedConfigurationVersion: the content as the body", read(r), json.dumps(self.hosted1).encode())
        r = ac.create_hosted_configuration_version(
            ApplicationId=ids["app"], ConfigurationProfileId="tuning/limits", Content=json.dumps(self.hosted2).encode(),
            ContentType="application/json", VersionLabel="v3", LatestVersionNumber=1)
        check_eq("CreateHostedConfigurationVersion by profile name, LatestVersionNumber 1: version 2",
                 (r["ConfigurationProfileId"], r["VersionNumber"], r["VersionLabel"], read(r)),
                 (ids["limits"], 2, "v3", json.dumps(self.hosted2).encode()))

        for what, kw, code, want in [
            ("LatestVersionNumber 1 when 2 is the latest", dict(LatestVersionNumber=1), "ConflictException", 409),
            ("a VersionLabel on another version already", dict(VersionLabel="v2"), "ConflictException", 409),
            ("a VersionLabel that begins with a digit", dict(VersionLabel="2.0"), "BadRequestException", 400),
        ]:
            e = raises(what, ac.create_hosted_configuration_version, ApplicationId=self.app, ConfigurationProfileId=ids["limits"],
                       Content=b'{"maxItems": 1}', ContentType="application/json", **kw)
            if e:
                v = error_view(e)
                check(f"{what}: {code} {want}", v["Code"] == code and v["Status"] == want and bool(v["Message"]), v)

        items = ac.list_hosted_configuration_versions(ApplicationId=self.app, ConfigurationProfileId=ids["limits"])["Items"]
        check_eq("ListHostedConfigurationVersions: newest first, with their fields",
                 [pick(i, "VersionNumber", "VersionLabel", "ContentType", "ConfigurationProfileId") for i in items],
                 [(2, "v3", "application/json", ids["limits"]), (1, "v2", "application/json", ids["limits"])])
        check_eq("ListHostedConfigurationVersions VersionLabel=v2: that version",
                 [i["VersionNumber"] for i in ac.list_hosted_configuration_versions(
                     ApplicationId=self.app, ConfigurationProfileId=ids["limits"], VersionLabel="v2")["Items"]], [1])
        check_eq("ListHostedConfigurationVersions VersionLabel=v*: both",
                 [i["VersionNumber"] for i in ac.list_hosted_configuration_versions(
                     ApplicationId=self.app, ConfigurationProfileId=ids["limits"], VersionLabel="v*")["Items"]], [2, 1])
        r = ac.get_hosted_configuration_version(ApplicationId=ids["app"], ConfigurationProfileId=ids["limits"], VersionNumber=1)
        check_eq("GetHostedConfigurationVersion 1: its fields and content",
                 (*pick(r, "VersionNumber", "VersionLabel", "Description", "ContentType"), read(r)),
                 (1, "v2", "more items", "application/json", json.dumps(self.hosted1).encode()))
        e = raises("GetHostedConfigurationVersion 99", ac.get_hosted_configuration_version,
                   ApplicationId=self.app, ConfigurationProfileId=ids["limits"], VersionNumber=99)
        if e:
            check_eq("GetHostedConfigurationVersion 99: ResourceNotFoundException 404",
                     (error_view(e)["Code"], error_view(e)["Status"]), ("ResourceNotFoundException", 404))

        # A profile's first version creates it, by name; an ID can't.
        r = ac.create_hosted_configuration_version(ApplicationId=self.app, ConfigurationProfileId="tuning/new",
                                                   Content=b"retries=3\n", ContentType="text/x-properties")
        new_id = r["ConfigurationProfileId"]
        check_eq("CreateHostedConfigurationVersion of a new profile by name: version 1, an ID", (r["VersionNumber"], bool(ID_RE.fullmatch(new_id))), (1, True))
        r = ac.get_configuration_profile(ApplicationId=self.app, ConfigurationProfileId=new_id)
        check_eq("GetConfigurationProfile of the profile its first version made", pick(r, "Id", "Name", "Type"), (new_id, "tuning/new", "AWS.Freeform"))
        check("ListConfigurationProfiles: the new profile is listed",
              "tuning/new" in [p["Name"] for p in ac.list_configuration_profiles(ApplicationId=self.app)["Items"]])
        e = raises("CreateHostedConfigurationVersion of an ID that names no profile", ac.create_hosted_configuration_version,
                   ApplicationId=self.app, ConfigurationProfileId="zzzzzzz", Content=b"x", ContentType="text/plain")
        if e:
            check_eq("an ID that names no profile: ResourceNotFoundException 404",
                     (error_view(e)["Code"], error_view(e)["Status"]), ("ResourceNotFoundException", 404))

        # Content Vane checks.
        e = raises("a features version that is not a features document", ac.create_hosted_configuration_version,
                   ApplicationId=self.app, ConfigurationProfileId="features",
                   Content=json.dumps({"dark-mode": {"default": 3, "rules": 5}}).encode(), ContentType="application/json")
        if e:
            v = error_view(e)
            details = (v["Details"] or {}).get("InvalidConfiguration") or []
            check("an invalid features version: BadRequestException 400, Reason InvalidConfiguration, a detail at $.dark-mode...",
                  v["Code"] == "BadRequestException" and v["Status"] == 400 and v["Reason"] == "InvalidConfiguration"
                  and len(details) > 0 and all(d.get("Location", "").startswith("$.dark-mode") for d in details), v)
        e = raises("a version over 8192 characters", ac.create_hosted_configuration_version,
                   ApplicationId=self.app, ConfigurationProfileId=ids["limits"], Content=b"x" * 9000, ContentType="text/plain")
        if e:
            r = e.response
            check_eq("a version over 8192 characters: PayloadTooLargeException 413, Measure KILOBYTES, Limit 8",
                     (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r.get("Measure"), r.get("Limit")),
                     ("PayloadTooLargeException", 413, "KILOBYTES", 8.0))
        check_eq("ListHostedConfigurationVersions after the refusals: still 2 versions",
                 [i["VersionNumber"] for i in ac.list_hosted_configuration_versions(
                     ApplicationId=self.app, ConfigurationProfileId=ids["limits"])["Items"]], [2, 1])

    # Control plane: deployment strategies ----------------------------------

    def strategies(self):
        ac = self.ac
        items = ac.list_deployment_strategies()["Items"]
        check_eq("ListDeploymentStrategies: the four predefined ones first, with AWS's numbers",
                 [pick(s, "Id", "Name", "DeploymentDurationInMinutes", "GrowthType", "GrowthFactor", "FinalBakeTimeInMinutes", "ReplicateTo")
                  for s in items[:4]],
                 [("AppConfig.AllAtOnce", "AppConfig.AllAtOnce", 0, "LINEAR", 100.0, 10, "NONE"),
                  ("AppConfig.Linear50PercentEvery30Seconds", "AppConfig.Linear50PercentEvery30Seconds", 1, "LINEAR", 50.0, 1, "NONE"),
                  ("AppConfig.Canary10Percent20Minutes", "AppConfig.Canary10Percent20Minutes", 20, "EXPONENTIAL", 10.0, 10, "NONE"),
                  ("AppConfig.Linear20PercentEvery6Minutes", "AppConfig.Linear20PercentEvery6Minutes", 30, "LINEAR", 20.0, 30, "NONE")])
        r = ac.create_deployment_strategy(Name=f"{self.app}-now", Description="no duration, no bake", DeploymentDurationInMinutes=0,
                                          FinalBakeTimeInMinutes=0, GrowthFactor=100, GrowthType="LINEAR", Tags={"team": "ci"})
        check_eq("CreateDeploymentStrategy: status 201", status(r), 201)
        sid = r["Id"]
        check("CreateDeploymentStrategy: an ID of seven [0-9a-z]", ID_RE.fullmatch(sid), r)
        want = (sid, f"{self.app}-now", "no duration, no bake", 0, "LINEAR", 100.0, 0, "NONE")
        fields = ("Id", "Name", "Description", "DeploymentDurationInMinutes", "GrowthType", "GrowthFactor", "FinalBakeTimeInMinutes", "ReplicateTo")
        check_eq("CreateDeploymentStrategy: the strategy given, ReplicateTo NONE", pick(r, *fields), want)
        check_eq("GetDeploymentStrategy of the new one", pick(ac.get_deployment_strategy(DeploymentStrategyId=sid), *fields), want)
        check_eq("GetDeploymentStrategy of a predefined one by name",
                 pick(ac.get_deployment_strategy(DeploymentStrategyId="AppConfig.Canary10Percent20Minutes"), "GrowthType", "GrowthFactor"),
                 ("EXPONENTIAL", 10.0))
        items = ac.list_deployment_strategies()["Items"]
        check("ListDeploymentStrategies: the new one after the predefined ones",
              sid in [s["Id"] for s in items[4:]], [s["Id"] for s in items])
        e = raises("CreateDeploymentStrategy ReplicateTo SSM_DOCUMENT", ac.create_deployment_strategy, Name="ssm",
                   DeploymentDurationInMinutes=0, GrowthFactor=100, ReplicateTo="SSM_DOCUMENT")
        if e:
            check_eq("ReplicateTo SSM_DOCUMENT: BadRequestException 400", (error_view(e)["Code"], error_view(e)["Status"]), ("BadRequestException", 400))
        e = raises("GetDeploymentStrategy of a missing ID", ac.get_deployment_strategy, DeploymentStrategyId="zzzzzzz")
        if e:
            check_eq("a missing strategy: ResourceNotFoundException 404", (error_view(e)["Code"], error_view(e)["Status"]), ("ResourceNotFoundException", 404))
        self.strategy = sid

    # Control plane: deployments --------------------------------------------

    def wait_deployment(self, env, number, state):
        """GetDeployment until the deployment's State is state, for at most
        DEPLOY_TIMEOUT seconds; returns the last answer."""
        deadline = time.monotonic() + DEPLOY_TIMEOUT
        while True:
            d = self.ac.get_deployment(ApplicationId=self.app, EnvironmentId=env, DeploymentNumber=number)
            if d["State"] == state or time.monotonic() > deadline:
                return d
            time.sleep(0.2)

    def env_state(self, env="prod"):
        return self.ac.get_environment(ApplicationId=self.app, EnvironmentId=env)["State"]

    def deployments(self):
        ac, ids = self.ac, self.ids
        # A session opened before: its polls see what the deployments change.
        r = self.poll(self.start("tuning/limits"))
        before = json.loads(r["Configuration"] or b"null")
        check("tuning/limits before deploying: a value other than the hosted versions'",
              before not in (None, self.hosted1, self.hosted2), before)
        token = r["NextPollConfigurationToken"]

        d = ac.start_deployment(ApplicationId=ids["app"], EnvironmentId=ids["prod"], ConfigurationProfileId=ids["limits"],
                                ConfigurationVersion="v2", DeploymentStrategyId=self.strategy, Description="ci: more items",
                                Tags={"team": "ci"})
        check_eq("StartDeployment: status 201", status(d), 201)
        check_eq("StartDeployment of version v2 with the custom strategy: deployment 1, its fields",
                 pick(d, "DeploymentNumber", "ApplicationId", "EnvironmentId", "ConfigurationProfileId", "ConfigurationName",
                      "ConfigurationVersion", "VersionLabel", "DeploymentStrategyId", "Description", "DeploymentDurationInMinutes", "FinalBakeTimeInMinutes"),
                 (1, ids["app"], ids["prod"], ids["limits"], "tuning/limits", "1", "v2", self.strategy, "ci: more items", 0, 0))
        check("StartDeployment: State DEPLOYING, BAKING or COMPLETE", d["State"] in ("DEPLOYING", "BAKING", "COMPLETE"), d["State"])
        d = self.wait_deployment("prod", 1, "COMPLETE")
        check_eq(f"GetDeployment 1 until COMPLETE (at most {DEPLOY_TIMEOUT} s): COMPLETE, 100%", pick(d, "State", "PercentageComplete"), ("COMPLETE", 100.0))
        events = [e["EventType"] for e in d["EventLog"]]
        check("GetDeployment 1: the event log, newest first, from DEPLOYMENT_STARTED by USER to DEPLOYMENT_COMPLETED",
              events[0] == "DEPLOYMENT_COMPLETED" and events[-1] == "DEPLOYMENT_STARTED" and d["EventLog"][-1]["TriggeredBy"] == "USER"
              and all(e["OccurredAt"] <= f["OccurredAt"] for f, e in zip(d["EventLog"], d["EventLog"][1:])), d["EventLog"])
        check("GetDeployment 1: StartedAt and CompletedAt, as datetimes", d["StartedAt"] <= d["CompletedAt"], d)
        r = self.poll(token)
        check_eq("the data plane serves the deployed version", json.loads(r["Configuration"] or b"null"), self.hosted1)
        token = r["NextPollConfigurationToken"]
        check_eq("GetEnvironment after it: READY_FOR_DEPLOYMENT", self.env_state(), "READY_FOR_DEPLOYMENT")
        items = ac.list_deployments(ApplicationId=self.app, EnvironmentId="prod")["Items"]
        check_eq("ListDeployments: deployment 1, COMPLETE",
                 [pick(i, "DeploymentNumber", "State", "ConfigurationName", "ConfigurationVersion", "VersionLabel", "PercentageComplete") for i in items],
                 [(1, "COMPLETE", "tuning/limits", "1", "v2", 100.0)])

        e = raises("StopDeployment of a COMPLETE deployment without AllowRevert", ac.stop_deployment,
                   ApplicationId=self.app, EnvironmentId="prod", DeploymentNumber=1)
        if e:
            check_eq("without AllowRevert: BadRequestException 400", (error_view(e)["Code"], error_view(e)["Status"]), ("BadRequestException", 400))
        d = ac.stop_deployment(ApplicationId=self.app, EnvironmentId="prod", DeploymentNumber=1, AllowRevert=True)
        check_eq("StopDeployment AllowRevert=True of the COMPLETE deployment: 202, REVERTED, REVERT_COMPLETED",
                 (status(d), d["State"], d["EventLog"][0]["EventType"]), (202, "REVERTED", "REVERT_COMPLETED"))
        print(f"     (the reverted deployment's events: {[e['EventType'] for e in d['EventLog']]})")
        check_eq("GetDeployment 1 afterwards: REVERTED",
                 ac.get_deployment(ApplicationId=self.app, EnvironmentId="prod", DeploymentNumber=1)["State"], "REVERTED")
        r = self.poll(token)
        check_eq("the data plane serves the value from before the deployment again", json.loads(r["Configuration"] or b"null"), before)
        token = r["NextPollConfigurationToken"]
        check_eq("GetEnvironment: REVERTED", self.env_state(), "REVERTED")
        e = raises("StopDeployment of a REVERTED deployment", ac.stop_deployment,
                   ApplicationId=self.app, EnvironmentId="prod", DeploymentNumber=1, AllowRevert=True)
        if e:
            check_eq("StopDeployment of a REVERTED deployment: BadRequestException", error_view(e)["Code"], "BadRequestException")

        # AppConfig.AllAtOnce bakes 10 minutes: one deployment at a time,
        # and stopping it rolls back.
        d = ac.start_deployment(ApplicationId=self.app, EnvironmentId="prod", ConfigurationProfileId="tuning/limits",
                                ConfigurationVersion="2", DeploymentStrategyId="AppConfig.AllAtOnce")
        check_eq("StartDeployment of version 2 with AppConfig.AllAtOnce: deployment 2, BAKING, 100%, bake 10",
                 pick(d, "DeploymentNumber", "State", "PercentageComplete", "FinalBakeTimeInMinutes", "VersionLabel"), (2, "BAKING", 100.0, 10, "v3"))
        check_eq("while it bakes: vane get has version 2's content", json.loads(self.vane("get", self.base + "tuning/limits")), self.hosted2)
        r = self.poll(token)
        check_eq("while it bakes: the data plane serves version 2", json.loads(r["Configuration"] or b"null"), self.hosted2)
        token = r["NextPollConfigurationToken"]
        check_eq("while it bakes: GetEnvironment DEPLOYING", self.env_state(), "DEPLOYING")
        e = raises("StartDeployment while deployment 2 bakes", ac.start_deployment, ApplicationId=self.app, EnvironmentId="prod",
                   ConfigurationProfileId="tuning/limits", ConfigurationVersion="1", DeploymentStrategyId=self.strategy)
        if e:
            check_eq("StartDeployment while another bakes: ConflictException 409", (error_view(e)["Code"], error_view(e)["Status"]), ("ConflictException", 409))
        d = ac.stop_deployment(ApplicationId=self.app, EnvironmentId="prod", DeploymentNumber=2)
        check_eq("StopDeployment of the baking deployment: 202, ROLLED_BACK, ROLLBACK_COMPLETED",
                 (status(d), d["State"], d["EventLog"][0]["EventType"]), (202, "ROLLED_BACK", "ROLLBACK_COMPLETED"))
        r = self.poll(token)
        check_eq("the data plane serves the value from before deployment 2", json.loads(r["Configuration"] or b"null"), before)
        check_eq("GetEnvironment: ROLLED_BACK", self.env_state(), "ROLLED_BACK")
        check_eq("ListDeployments: newest first",
                 [pick(i, "DeploymentNumber", "State") for i in ac.list_deployments(ApplicationId=self.app, EnvironmentId="prod")["Items"]],
                 [(2, "ROLLED_BACK"), (1, "REVERTED")])

        for what, kw, code in [
            ("StartDeployment of a missing version", dict(ConfigurationVersion="v9"), "ResourceNotFoundException"),
            ("StartDeployment of a missing strategy", dict(DeploymentStrategyId="zzzzzzz"), "ResourceNotFoundException"),
            ("StartDeployment with a KmsKeyIdentifier", dict(KmsKeyIdentifier="alias/x"), "BadRequestException"),
        ]:
            args = dict(ApplicationId=self.app, EnvironmentId="prod", ConfigurationProfileId="tuning/limits",
                        ConfigurationVersion="1", DeploymentStrategyId=self.strategy)
            e = raises(what, ac.start_deployment, **{**args, **kw})
            if e:
                check_eq(f"{what}: {code}", error_view(e)["Code"], code)
        e = raises("GetDeployment 99", ac.get_deployment, ApplicationId=self.app, EnvironmentId="prod", DeploymentNumber=99)
        if e:
            check_eq("GetDeployment 99: ResourceNotFoundException 404", (error_view(e)["Code"], error_view(e)["Status"]), ("ResourceNotFoundException", 404))

    # Control plane: a deployment of the features profile -------------------

    def flag(self, env, feature):
        """The value of a flag (vane get), parsed; None if it does not exist."""
        try:
            return json.loads(self.vane("get", f"/{self.app}/{env}/features/{feature}"))
        except RuntimeError as e:
            if "not found" in str(e):
                return None
            raise

    def features_deployment(self):
        ac = self.ac
        # Powertools' per-feature form: dark-mode exists in prod (false
        # since the features section), beta-search does not.
        doc = {"dark-mode": {"default": True},
               "beta-search": {"default": False, "rules": {"staff": {"when_match": True, "conditions": [
                   {"action": "EQUALS", "key": "tier", "value": "staff"}]}}}}
        check_eq("before: dark-mode is off and beta-search does not exist",
                 (self.flag("prod", "dark-mode"), self.flag("prod", "beta-search")), (False, None))
        r = self.poll(self.start("features"))
        token = r["NextPollConfigurationToken"]
        v = ac.create_hosted_configuration_version(ApplicationId=self.app, ConfigurationProfileId="features",
                                                   Content=json.dumps(doc).encode(), ContentType="application/json", VersionLabel="flags-v1")
        check_eq("CreateHostedConfigurationVersion of features: version 1 of the features profile",
                 pick(v, "ConfigurationProfileId", "VersionNumber", "VersionLabel"), (self.ids["features"], 1, "flags-v1"))
        d = ac.start_deployment(ApplicationId=self.app, EnvironmentId="prod", ConfigurationProfileId="features",
                                ConfigurationVersion="flags-v1", DeploymentStrategyId="AppConfig.AllAtOnce")
        check_eq("StartDeployment of features: COMPLETE at once, 100%", pick(d, "DeploymentNumber", "State", "PercentageComplete", "ConfigurationName"),
                 (3, "COMPLETE", 100.0, "features"))
        check_eq("vane get: the flags the document names, as deployed",
                 (self.flag("prod", "dark-mode"), self.flag("prod", "beta-search")), (doc["dark-mode"], doc["beta-search"]))
        r = self.poll(token)
        got = json.loads(r["Configuration"] or b"null") or {}
        check_eq("the data plane's features document: the deployed features, and the flags the document does not name",
                 (sorted(got), got.get("dark-mode"), got.get("beta-search")),
                 (["banner", "beta-search", "dark-mode", "new-checkout"], doc["dark-mode"], doc["beta-search"]))
        token = r["NextPollConfigurationToken"]
        check("ListConfigurationProfiles: the new flag is a profile",
              "features/beta-search" in [p["Name"] for p in ac.list_configuration_profiles(ApplicationId=self.app)["Items"]])

        d = ac.stop_deployment(ApplicationId=self.app, EnvironmentId="prod", DeploymentNumber=3, AllowRevert=True)
        check_eq("StopDeployment AllowRevert=True of the features deployment: REVERTED", d["State"], "REVERTED")
        check_eq("after the revert: dark-mode off again, beta-search deleted",
                 (self.flag("prod", "dark-mode"), self.flag("prod", "beta-search")), (False, None))
        r = self.poll(token)
        got = json.loads(r["Configuration"] or b"null") or {}
        check_eq("the data plane's features document after the revert",
                 (sorted(got), (got.get("dark-mode") or {}).get("default")), (["banner", "dark-mode", "new-checkout"], False))

        # staging has no flags: the deployment creates them.
        d = ac.start_deployment(ApplicationId=self.app, EnvironmentId=self.ids["staging"], ConfigurationProfileId=self.ids["features"],
                                ConfigurationVersion="1", DeploymentStrategyId=self.strategy)
        check_eq("StartDeployment of features to staging: deployment 1 of staging, COMPLETE", pick(d, "DeploymentNumber", "State"), (1, "COMPLETE"))
        check_eq("vane get /{app}/staging/features/dark-mode: the flag exists", self.flag("staging", "dark-mode"), doc["dark-mode"])
        r = self.poll(self.acd.start_configuration_session(ApplicationIdentifier=self.app, EnvironmentIdentifier="staging",
                                                           ConfigurationProfileIdentifier="features")["InitialConfigurationToken"])
        check_eq("the data plane's features document of staging", json.loads(r["Configuration"] or b"null"), doc)

    # Control plane: operations Vane does not serve -------------------------

    def unsupported(self):
        ac = self.ac
        calls = [
            ("CreateApplication", ac.create_application, dict(Name="another")),
            ("UpdateApplication", ac.update_application, dict(ApplicationId=self.app, Description="x")),
            ("DeleteEnvironment", ac.delete_environment, dict(ApplicationId=self.app, EnvironmentId="staging")),
            ("CreateConfigurationProfile", ac.create_configuration_profile, dict(ApplicationId=self.app, Name="p", LocationUri="hosted")),
            ("DeleteHostedConfigurationVersion", ac.delete_hosted_configuration_version,
             dict(ApplicationId=self.app, ConfigurationProfileId=self.ids["limits"], VersionNumber=1)),
            ("DeleteDeploymentStrategy", ac.delete_deployment_strategy, dict(DeploymentStrategyId=self.strategy)),
            ("ValidateConfiguration", ac.validate_configuration,
             dict(ApplicationId=self.app, ConfigurationProfileId=self.ids["limits"], ConfigurationVersion="1")),
            ("ListExtensions", ac.list_extensions, {}),
            ("TagResource", ac.tag_resource, dict(ResourceArn=f"arn:aws:appconfig:us-east-1:000000000000:application/{self.ids['app']}", Tags={"a": "b"})),
        ]
        if hasattr(ac, "get_account_settings"):
            calls.append(("GetAccountSettings", ac.get_account_settings, {}))
        for op, fn, kw in calls:
            e = raises(op, fn, **kw)
            if e:
                v = error_view(e)
                check(f"{op}: UnknownOperationException 404 naming the operation",
                      v["Code"] == "UnknownOperationException" and v["Status"] == 404 and op in (v["Message"] or ""), v)
        check_eq("staging is still there", self.env_state("staging"), "READY_FOR_DEPLOYMENT")
        check_eq("the strategy is still there", ac.get_deployment_strategy(DeploymentStrategyId=self.strategy)["Id"], self.strategy)

    # Control plane: paginators ---------------------------------------------

    def everything(self, op, **kw):
        """Every item of a listing of the control plane, following NextToken
        by hand (pages of the default size)."""
        items, token = [], None
        while True:
            r = getattr(self.ac, op)(**kw, **({"NextToken": token} if token else {}))
            items += r["Items"]
            token = r.get("NextToken")
            if not token:
                return items

    def pagination(self):
        ac = self.ac
        for op, kw, size in [
            ("list_applications", {}, 1),
            ("list_environments", dict(ApplicationId=self.app), 1),
            ("list_configuration_profiles", dict(ApplicationId=self.app), 1),
            ("list_hosted_configuration_versions", dict(ApplicationId=self.app, ConfigurationProfileId=self.ids["limits"]), 1),
            ("list_deployment_strategies", {}, 2),
            ("list_deployments", dict(ApplicationId=self.app, EnvironmentId="prod"), 1),
        ]:
            whole = self.everything(op, **kw)
            pages = list(ac.get_paginator(op).paginate(**kw, PaginationConfig={"PageSize": size}))
            check(f"{op} paginator PageSize={size}: {size} a page, NextToken on all pages but the last",
                  len(pages) > 1 and all(len(p["Items"]) == size for p in pages[:-1]) and 0 < len(pages[-1]["Items"]) <= size
                  and all(p.get("NextToken") for p in pages[:-1]) and not pages[-1].get("NextToken"),
                  [(len(p["Items"]), bool(p.get("NextToken"))) for p in pages])
            check_eq(f"{op} paginator: every item once, in the listing's order", [i for p in pages for i in p["Items"]], whole)
        apps = [a["Name"] for p in ac.get_paginator("list_applications").paginate(PaginationConfig={"PageSize": 1}) for a in p["Items"]]
        check(f"list_applications paginator: {self.app} and {self.app2}", self.app in apps and self.app2 in apps, apps)

        token = ac.list_environments(ApplicationId=self.app, MaxResults=1)["NextToken"]
        e = raises("another listing's NextToken", ac.list_configuration_profiles, ApplicationId=self.app, NextToken=token)
        if e:
            check_eq("another listing's NextToken: BadRequestException 400", (error_view(e)["Code"], error_view(e)["Status"]), ("BadRequestException", 400))
        unvalidated = self.client(*self.token.split(".", 1), service="appconfig", parameter_validation=False)
        e = raises("MaxResults 51 (botocore's validation off)", unvalidated.list_applications, MaxResults=51)
        if e:
            check_eq("MaxResults 51: BadRequestException 400", (error_view(e)["Code"], error_view(e)["Status"]), ("BadRequestException", 400))

    # Control plane: a key with a narrow policy -----------------------------

    def narrow_key(self):
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["ssm:DescribeParameters", "ssm:GetParameter*"], "Resource": [f"/{self.app}/*"]}]}
        out = json.loads(self.vane("keys", "create", f"{self.app}-cp", "--policy", json.dumps(policy), "--output", "json"))
        ac = self.client(out["key"]["id"], out["secret"], service="appconfig")
        app2_id = next(a["Id"] for p in self.ac.get_paginator("list_applications").paginate() for a in p["Items"] if a["Name"] == self.app2)
        check_eq("a key allowed /{app}/*: ListApplications has its application alone",
                 [a["Name"] for a in ac.list_applications()["Items"]], [self.app])
        check_eq("the key: GetApplication of its application", ac.get_application(ApplicationId=self.app)["Id"], self.ids["app"])
        check_eq("the key: ListEnvironments of its application", [e["Name"] for e in ac.list_environments(ApplicationId=self.app)["Items"]],
                 ["prod", "staging"])
        names = [p["Name"] for p in ac.list_configuration_profiles(ApplicationId=self.app)["Items"]]
        check("the key: ListConfigurationProfiles has the tree's profiles, not the one with only hosted versions (its staging parameter is not the key's)",
              "tuning/limits" in names and "features" in names and "tuning/new" not in names, names)
        for what, fn, kw in [
            ("GetApplication of another application, by name", ac.get_application, dict(ApplicationId=self.app2)),
            ("GetApplication of another application, by ID", ac.get_application, dict(ApplicationId=app2_id)),
            ("ListEnvironments of another application", ac.list_environments, dict(ApplicationId=self.app2)),
            ("ListConfigurationProfiles of another application", ac.list_configuration_profiles, dict(ApplicationId=self.app2)),
        ]:
            e = raises(f"the key: {what}", fn, **kw)
            if e:
                v = error_view(e)
                check(f"the key: {what}: ResourceNotFoundException 404",
                      v["Code"] == "ResourceNotFoundException" and v["Status"] == 404 and isinstance(e, ac.exceptions.ResourceNotFoundException), v)
        check("the key: ListDeploymentStrategies has the predefined strategies and the custom one",
              {"AppConfig.AllAtOnce", self.strategy} <= {s["Id"] for s in ac.list_deployment_strategies()["Items"]})
        check_eq("the key: ListDeployments leaves out what it may not describe",
                 ac.list_deployments(ApplicationId=self.app, EnvironmentId="prod")["Items"], [])
        for what, fn, kw in [
            ("GetHostedConfigurationVersion", ac.get_hosted_configuration_version,
             dict(ApplicationId=self.app, ConfigurationProfileId="tuning/limits", VersionNumber=1)),
            ("CreateHostedConfigurationVersion", ac.create_hosted_configuration_version,
             dict(ApplicationId=self.app, ConfigurationProfileId="tuning/limits", Content=b"{}", ContentType="application/json")),
            ("StartDeployment", ac.start_deployment, dict(ApplicationId=self.app, EnvironmentId="prod", ConfigurationProfileId="tuning/limits",
                                                        ConfigurationVersion="1", DeploymentStrategyId=self.strategy)),
            ("GetDeployment", ac.get_deployment, dict(ApplicationId=self.app, EnvironmentId="prod", DeploymentNumber=1)),
        ]:
            e = raises(f"the key: {what}", fn, **kw)
            if e:
                v = error_view(e)
                check(f"the key: {what}: AccessDeniedException 403", v["Code"] == "AccessDeniedException" and v["Status"] == 403, v)

    def run(self):
        print(f"application {self.app}, environment {self.env}", flush=True)
        section("seed", self.seed)
        section("control plane: applications, environments, profiles", self.control_plane)
        section("freeform profiles", self.freeform)
        section("the features profile", self.features)
        section("RequiredMinimumPollIntervalInSeconds", self.poll_interval)
        section("errors", self.errors)
        section("a key with a narrow policy", self.restricted_key)
        # The control plane's writes come after the data plane's checks,
        # which expect the seeded values.
        section("control plane: hosted configuration versions", self.hosted_versions)
        section("control plane: deployment strategies", self.strategies)
        section("control plane: deployments", self.deployments)
        section("control plane: a deployment of the features profile", self.features_deployment)
        section("control plane: operations Vane does not serve", self.unsupported)
        section("control plane: paginators", self.pagination)
        section("control plane: a key with a narrow policy", self.narrow_key)


def main():
    print(f"boto3 {boto3.__version__} against vane serve (AppConfig data plane and control plane)", flush=True)
    # No shared AWS configuration from the machine: everything is given.
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_APPCONFIGDATA", "AWS_ENDPOINT_URL_APPCONFIG"):
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
        print(f"boto3 appconfig and appconfigdata: {passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
