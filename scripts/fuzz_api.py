"""API fuzzing with schemathesis against a live, throw-away instance (``make test-fuzz``, CI).

Creates a fresh SQLite database in a temporary directory, migrates, seeds the demo, collects the
static files, starts gunicorn with ``DEBUG=0`` (the production path) on a free port, fetches API
tokens for an office role (``town1``) and an institution role (``home1``) and a device token for
the ingest endpoint, and runs schemathesis against ``/api/schema/`` as each of them with a bounded
number of cases. Fails (exit 1) on any 5xx and on any response that does not conform to the
published schema; prints one summary line with the case count and the number of server errors.

Environment: ``FUZZ_EXAMPLES`` (cases per operation and role, default 8: about 1,300 cases per role), ``FUZZ_SEED``,
``FUZZ_WORKERS`` (schemathesis workers, default 2), ``FUZZ_GUNICORN_WORKERS`` (default 2),
``FUZZ_KEEP=1`` keeps the temporary directory (database, server log, reports),
``FUZZ_VAR_COPY`` starts from a copy of an already seeded ``FIRESAFE_VAR_DIR`` (its SQLite file and
media; faster local runs).
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "demo-pass-2026"
CHECKS = "not_a_server_error,response_schema_conformance"
# Operations that end the caller's own session would leave the rest of the run unauthenticated.
EXCLUDE_PATH_REGEX = r"^/api/v1/auth/(?!token/$)"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, env, **kw):
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.run(args, env=env, cwd=ROOT, check=True, **kw)


def post_json(url, body, headers=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def wait_for(url, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer {url} within {seconds}s")


def device_token(env):
    """Give the first demo device a fresh token (only its hash is stored) and return it."""
    code = ("from apps.monitoring.models import Device, hash_token; import secrets; "
            "t = secrets.token_urlsafe(24); d = Device.objects.filter(is_active=True).order_by('pk').first(); "
            "d.token_hash = hash_token(t); d.save(update_fields=['token_hash']); print(t)")
    out = subprocess.run([BIN / "python", "manage.py", "shell", "-c", code], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def main():
    examples = int(os.environ.get("FUZZ_EXAMPLES", "8"))
    seed = os.environ.get("FUZZ_SEED", str(secrets.randbelow(2**31)))
    workers = os.environ.get("FUZZ_WORKERS", "2")
    tmp = Path(tempfile.mkdtemp(prefix="firesafe-fuzz-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "FIRESAFE_VAR_DIR": str(tmp), "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50),
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_COOKIES": "0", "SECURE_SSL_REDIRECT": "0",
           "PYTHONDONTWRITEBYTECODE": "1", "AUDIT_HMAC_KEY": secrets.token_urlsafe(40),
           "AUDIT_ANCHOR_FILE": str(tmp / "audit-anchor.jsonl")}
    env.pop("DATABASE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    server = None
    started = time.monotonic()
    try:
        if os.environ.get("FUZZ_VAR_COPY"):
            source = Path(os.environ["FUZZ_VAR_COPY"])
            shutil.copy(source / "firesafe.sqlite3", tmp / "firesafe.sqlite3")
            if (source / "media").is_dir():
                shutil.copytree(source / "media", tmp / "media")
            run([BIN / "python", "manage.py", "migrate", "--noinput", "-v0"], env)
        else:
            run([BIN / "python", "manage.py", "migrate", "--noinput", "-v0"], env)
            run([BIN / "python", "manage.py", "seed_demo"], env, stdout=subprocess.DEVNULL)
        # The production path: collected static files and DEBUG=0 (a failure here fails the stage).
        run([BIN / "python", "manage.py", "collectstatic", "--noinput", "-v0"], env, stdout=subprocess.DEVNULL)
        log = open(tmp / "server.log", "w")  # noqa: SIM115 (closed with the server)
        server = subprocess.Popen(
            [BIN / "python", "-m", "gunicorn", "firesafe.wsgi", "-b", f"127.0.0.1:{port}",
             "-w", os.environ.get("FUZZ_GUNICORN_WORKERS", "2"), "--timeout", "60"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(f"{base}/api/schema/", server)
        print(f"server up after {time.monotonic() - started:.0f}s on {base}", flush=True)
        passes = []
        for user in ("town1", "home1"):
            token = post_json(f"{base}/api/v1/auth/token/", {"username": user, "password": PASSWORD})["token"]
            passes.append((user, f"Authorization: Token {token}", ["--exclude-path-regex", EXCLUDE_PATH_REGEX]))
        # One operation: its boundary cases too (the coverage phase), and more random ones.
        passes.append(("device", f"Authorization: Device {device_token(env)}",
                       ["--include-path", "/api/v1/ingest/readings/", "--phases", "examples,coverage,fuzzing",
                        "--max-examples", str(examples * 10)]))
        total = {"cases": 0, "server": 0, "schema": 0, "other": 0}
        failed = False
        for name, header, selection in passes:
            junit = tmp / f"junit-{name}.xml"
            args = [BIN / "python", "-m", "schemathesis.cli", "run", f"{base}/api/schema/", "--checks", CHECKS,
                    "--max-examples", str(examples), "--seed", seed, "--workers", workers,
                    "--phases", os.environ.get("FUZZ_PHASES", "examples,fuzzing"), "--generation-database", "none",
                    "--request-timeout", "30", "--no-color", "--suppress-health-check", "all",
                    "-H", header, *selection, "--report", "junit,ndjson", "--report-junit-path", junit,
                    "--report-ndjson-path", tmp / f"events-{name}.ndjson"]
            print(f"\n==== schemathesis as {name} ====", flush=True)
            rc = subprocess.run([str(a) for a in args], env=env, cwd=tmp).returncode
            cases, server_errors, schema, other = count_events(tmp / f"events-{name}.ndjson")
            print(f"{name}: {cases} cases, {server_errors} server errors, {schema} schema violations, "
                  f"{other} other failures (exit {rc})", flush=True)
            for k, v in zip(("cases", "server", "schema", "other"), (cases, server_errors, schema, other),
                            strict=True):
                total[k] += v
            failed |= rc != 0
        status = "FAILED" if failed or total["server"] or total["schema"] else "passed"
        print(f"\nAPI fuzzing {status}: {total['cases']} cases, {total['server']} server errors, "
              f"{total['schema']} schema violations, {total['other']} other failures "
              f"(seed {seed}, {time.monotonic() - started:.0f}s)", flush=True)
        if failed or total["server"] or total["schema"]:
            print(f"server log: {tmp / 'server.log'}", flush=True)
            os.environ["FUZZ_KEEP"] = "1"
            return 1
        return 0
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        if os.environ.get("FUZZ_KEEP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}", flush=True)


def count_events(path):
    """(cases, server errors, schema violations, other failures) from schemathesis' NDJSON events."""
    cases = server = schema = other = 0
    if not path.exists():
        return cases, server, schema, other
    with open(path) as fh:
        for line in fh:
            event = json.loads(line)
            for kind, body in event.items():
                if kind == "ScenarioFinished":
                    recorder = body.get("recorder") or {}
                    cases += len(recorder.get("cases") or {})
                    for checks in (recorder.get("checks") or {}).values():
                        for check in checks:
                            if check.get("status") != "failure":
                                continue
                            name = check.get("name")
                            if name == "not_a_server_error":
                                server += 1
                            elif name == "response_schema_conformance":
                                schema += 1
                            else:
                                other += 1
    return cases, server, schema, other


if __name__ == "__main__":
    sys.exit(main())
