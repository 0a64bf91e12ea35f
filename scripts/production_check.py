"""Run FireSafe the way it is deployed and try it as every demo role (CI's production stage).

    python scripts/production_check.py          # make test-prod

On a fresh PostgreSQL database (PROD_CHECK_DB, default
``postgres://postgres@127.0.0.1:5432/firesafe_prodcheck``, dropped and created) with the
documented production settings (``DEBUG=0``, a secret key, ``BEHIND_TLS_PROXY=1``, secure
cookies): ``migrate``, ``collectstatic``, ``seed_demo``, ``check --deploy --fail-level WARNING``,
then gunicorn on a free port. Requests carry ``X-Forwarded-Proto: https`` as the TLS proxy sets
it. Then, for every demo account: log in, crawl every page linked from the menus and the home
page plus the first detail page linked from each of them, and every static asset they (and
the style sheets) reference; no answer may be a 5xx, every asset must answer 200. Each role
downloads its own photos and documents and gets 404 for an outsider's; anonymous requests go
to the login page. Finally ``backup``, ``restore`` into a fresh database, ``verify_audit`` and
equal row counts. Exits non-zero on the first class of failure, after printing them all.
"""
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
DB_URL = os.environ.get("PROD_CHECK_DB", "postgres://postgres@127.0.0.1:5432/firesafe_prodcheck")
PASSWORD = "demo-pass-2026"
ROLES = ["admin", "bureau", "yanglao", "shiwu", "town1", "town2", "home1", "home2"]
DETAIL = re.compile(r"^/[a-z0-9_-]+/(?:[a-z0-9_-]+/)*(?:\d+|[0-9a-f-]{32,36})/$")
SKIP = ("/accounts/logout/", "/i18n/", "/static/", "/files/")
MAX_PAGES_PER_ROLE = 400


def log(msg):
    print(msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recreate_database(url):
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.assets, self.in_nav = [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag in ("script", "img") and a.get("src"):
            self.assets.append(a["src"])
        elif tag == "link" and a.get("href") and "stylesheet" in (a.get("rel") or ""):
            self.assets.append(a["href"])


class Client:
    """A browser-like client of the proxied site: cookies kept by hand (they are Secure)."""

    def __init__(self, port):
        self.port, self.cookies = port, {}

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        h = {"Host": f"127.0.0.1:{self.port}", "X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1",
             "Accept-Language": "zh-CN"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        for key, value in resp.getheaders():
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        conn.close()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), data

    def get(self, path):
        return self.request("GET", path)

    def login(self, username):
        status, _, body = self.get("/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        origin = f"https://127.0.0.1:{self.port}"
        status, headers, _ = self.request(
            "POST", "/accounts/login/", urlencode({"username": username, "password": PASSWORD,
                                                   "csrfmiddlewaretoken": token}),
            {"Content-Type": "application/x-www-form-urlencoded", "Origin": origin, "Referer": origin + "/accounts/login/"})
        if status != 302:
            raise SystemExit(f"login as {username} failed: {status}")


def local(href, base):
    href = urldefrag(urljoin(base, href))[0]
    parts = urlsplit(href)
    if parts.scheme not in ("", "http", "https") or (parts.netloc and not parts.netloc.startswith("127.0.0.1")):
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path if path.startswith("/") else None


def crawl(client, role, failures, assets):
    status, _, body = client.get("/")
    home = Links()
    home.feed(body.decode("utf-8", "replace"))
    first = []
    for href in home.links:
        path = local(href, "/")
        if path and not path.startswith(SKIP) and path not in first:
            first.append(path)
    seen, counts = {"/"}, {"pages": 1, "4xx": 0}
    assets.update(a for a in (local(x, "/") for x in home.assets) if a)
    queue = [(p, True) for p in first]
    while queue and counts["pages"] < MAX_PAGES_PER_ROLE:
        path, follow = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        status, headers, body = client.get(path)
        counts["pages"] += 1
        if status >= 500:
            failures.append(f"{role}: {status} {path}")
            continue
        if 400 <= status < 500:
            counts["4xx"] += 1
            log(f"    {role}: {status} {path}")
            continue
        if "text/html" not in headers.get("content-type", ""):
            continue
        page = Links()
        page.feed(body.decode("utf-8", "replace"))
        assets.update(a for a in (local(x, path) for x in page.assets) if a)
        if follow:
            # The first detail page linked from this page (a list's first row).
            for href in page.links:
                target = local(href, path)
                if target and DETAIL.match(target) and target not in seen and not target.startswith(SKIP):
                    queue.append((target, False))
                    break
    return counts


def check_assets(client, assets, failures):
    css_urls = set()
    for path in sorted(assets):
        if not path.startswith("/static/"):
            continue
        status, headers, body = client.get(path)
        if status != 200:
            failures.append(f"asset {status} {path}")
        elif path.endswith(".css"):
            for ref in re.findall(rb"url\(\s*['\"]?([^'\")]+)", body):
                ref = ref.decode()
                if not ref.startswith("data:"):
                    css_urls.add(local(ref, path))
    for path in sorted(p for p in css_urls if p):
        status, _, _ = client.get(path)
        if status != 200:
            failures.append(f"asset (from CSS) {status} {path}")
    return len(assets) + len(css_urls)


def file_targets(env):
    """For each role: (own attachment url, own document url, an outsider's attachment/document url)."""
    code = r"""
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firesafe.settings")
django.setup()
from apps.core.models import Attachment
from apps.hazards.models import OfficialDocument
from apps.orgs.models import User
out = {}
for username in %r:
    u = User.objects.get(username=username)
    own_a = Attachment.objects.visible_to(u).exclude(file="").order_by("id").first()
    other_a = Attachment.objects.exclude(pk__in=Attachment.objects.visible_to(u).values("pk")).exclude(file="").first()
    own_d = OfficialDocument.objects.visible_to(u).exclude(file="").order_by("id").first()
    other_d = OfficialDocument.objects.exclude(pk__in=OfficialDocument.objects.visible_to(u).values("pk")).exclude(file="").first()
    out[username] = {
        "own": [x for x in [own_a and (own_a.url, own_a.file.size), own_d and ("/hazards/documents/%%d/download/" %% own_d.pk, own_d.file.size)] if x],
        "other": [x for x in [other_a and other_a.url, other_d and "/hazards/documents/%%d/download/" %% other_d.pk] if x],
    }
print(json.dumps(out))
""" % (ROLES,)
    import json

    result = subprocess.run([PY, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def manage(env, *args, **kw):
    return subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, **kw)


def main():
    # --reuse DIR: keep the database and the var folder of an earlier run (for working on the crawl).
    reuse = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--reuse" else None
    var = Path(reuse) if reuse else Path(tempfile.mkdtemp(prefix="firesafe-prod-"))
    port = free_port()
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "DATABASE_URL": DB_URL,
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "BEHIND_TLS_PROXY": "1", "FIRESAFE_VAR_DIR": str(var),
           "CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{port}", "PYTHONDONTWRITEBYTECODE": "1",
           "AUDIT_HMAC_KEY": secrets.token_urlsafe(40), "AUDIT_HMAC_KEY_ID": "ci1", "TRUSTED_PROXY_COUNT": "1",
           "AUDIT_ANCHOR_FILE": str(var / "audit-anchor.jsonl")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("CELERY_BROKER_URL", None)
    failures = []
    log(f"== production check: {DB_URL}, var {var}, port {port}")
    if not reuse:
        recreate_database(DB_URL)
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        manage(env, "seed_demo", "--quiet")
    log("== manage.py check --deploy (documented production settings)")
    try:
        manage(env, "check", "--deploy", "--fail-level", "WARNING")
    except subprocess.CalledProcessError:
        failures.append("manage.py check --deploy reported warnings (above)")
    server = subprocess.Popen(
        [str(Path(PY).parent / "gunicorn"), "firesafe.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--timeout", "120", "--access-logfile", "-", "--error-logfile", str(var / "gunicorn.err")],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(var / "server.log", "w"), start_new_session=True)
    try:
        anon = Client(port)
        for _ in range(100):
            try:
                if anon.get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        else:
            raise SystemExit("gunicorn did not become healthy:\n" + (var / "gunicorn.err").read_text()[-3000:])
        log(f"== gunicorn up on {port}; healthz 200")

        status, headers, _ = Client(port).request("GET", "/", headers={"X-Forwarded-Proto": "http"})
        if status != 301 or not headers.get("location", "").startswith("https://"):
            failures.append(f"plain HTTP is not redirected to HTTPS: {status}")
        status, headers, _ = anon.get("/")
        if "strict-transport-security" not in headers:
            failures.append("no HSTS header over HTTPS")
        if "script-src 'self'" not in headers.get("content-security-policy", ""):
            failures.append("no Content-Security-Policy on pages")

        targets = file_targets(env)
        any_file = next((t["own"][0][0] for t in targets.values() if t["own"]), None)
        for path in ["/", "/hazards/", any_file]:
            if not path:
                continue
            status, headers, _ = Client(port).get(path)
            if status != 302 or "/accounts/login/" not in headers.get("location", ""):
                failures.append(f"anonymous {path}: {status} (expected a redirect to the login page)")

        assets = set()
        for role in ROLES:
            client = Client(port)
            client.login(role)
            counts = crawl(client, role, failures, assets)
            own_ok = 0
            for url, size in targets[role]["own"]:
                status, _, body = client.get(url)
                if status != 200 or len(body) != size:
                    failures.append(f"{role}: own file {url} -> {status}, {len(body)} of {size} bytes")
                else:
                    own_ok += 1
            for url in targets[role]["other"]:
                status, _, _ = client.get(url)
                if status != 404:
                    failures.append(f"{role}: an outsider's file {url} -> {status} (expected 404)")
            log(f"  {role:8s} {counts['pages']:4d} pages crawled, {counts['4xx']} 4xx, "
                f"{own_ok} own files downloaded, {len(targets[role]['other'])} outsiders' files refused")
        n_assets = check_assets(Client(port), assets, failures)
        log(f"== {n_assets} static assets checked")
        err = (var / "gunicorn.err").read_text() + (var / "server.log").read_text()
        if "Traceback" in err:
            failures.append("tracebacks in the gunicorn log:\n" + err[-4000:])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    backup_restore(env, var, failures)
    if failures:
        log(f"FAILED: {len(failures)} problem(s)")
        for f in failures:
            log(f"  {f}")
        sys.exit(1)
    shutil.rmtree(var, ignore_errors=True)
    log("production check passed")


def backup_restore(env, var, failures):
    """``backup``, ``restore`` into a fresh database and media folder, ``verify_audit``, counts equal."""
    out = var / "backups"
    log("== audit_anchor, backup, restore into a fresh database, verify_audit against the checkpoint")
    try:
        manage(env, "audit_anchor")
        manage(env, "backup", "--output", str(out))
    except subprocess.CalledProcessError:
        failures.append("backup failed")
        return
    archives = sorted(out.glob("*.tar.gz"))
    if not archives:
        failures.append("backup wrote no archive")
        return
    restored_db = DB_URL.rsplit("/", 1)[0] + "/firesafe_prodcheck_restored"
    recreate_database(restored_db)
    env2 = {**env, "DATABASE_URL": restored_db, "FIRESAFE_VAR_DIR": str(var / "restored")}
    try:
        manage(env2, "restore", str(archives[-1]))
        manage(env2, "verify_audit")
    except subprocess.CalledProcessError:
        failures.append("restore or verify_audit failed")


if __name__ == "__main__":
    main()
