"""``python -m benchmarks [NAME ...]``: every ``benchmarks/bench_*.py`` (or the named ones).

Honest by construction:
- DEBUG is off (``DEBUG=0`` unless the caller sets it; nothing here forces it on).
- ``make bench`` runs on a fresh PostgreSQL database (``BENCH_FRESH=1``: dropped, created, migrated);
  every module makes and commits its own data and ANALYZEs it before measuring.
- A module that cannot run here raises :class:`benchmarks.util.Skip` (or ``SystemExit``) with the
  reason: it is reported as skipped and the run goes on; an error in one module is reported and
  the run goes on too (the exit status is 1).
- Results go to ``benchmarks/results/<UTC time>.json`` and ``latest.json`` with the date, the
  machine and the settings; a summary is printed at the end.

Modules are found by name (``bench_*.py``), so a new bench module is picked up by itself; each
exposes ``run() -> list[dict]`` and optionally ``summary(rows) -> list[str]``.
"""
import datetime
import importlib
import json
import os
import pkgutil
import platform
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firesafe.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("SECURE_COOKIES", "0")
# The bench database is thrown away: a key of its own for the audit trail the fixtures write.
os.environ.setdefault("AUDIT_HMAC_KEY", __import__("secrets").token_hex(32))
# A throwaway database unless DATABASE_URL names one (e.g. a PostgreSQL bench database).
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")


def _prepare_postgres_database(url, fresh):
    """Create the bench database if missing; with ``fresh``, drop it first (a database of its own)."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    if "postgresql" not in cfg["ENGINE"]:
        return False
    admin = psycopg.connect(host=cfg["HOST"] or None, port=cfg["PORT"] or None, user=cfg["USER"] or None,
                            password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True)
    with admin:
        if fresh:
            admin.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
            admin.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    return True


def bench_modules():
    """Every ``bench_*`` module of this package, by name (new ones are picked up by themselves)."""
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))


def machine():
    cpus = os.cpu_count()
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), platform.processor())
    except OSError:
        model = platform.processor()
    return f"{platform.node()}: {cpus} CPU ({model}), Python {platform.python_version()}, {platform.system()}"


def main(argv):
    import django

    fresh = os.environ.get("BENCH_FRESH", "0") == "1"
    is_pg = _prepare_postgres_database(os.environ["DATABASE_URL"], fresh)
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    # Pages reference static files by name; the bench does not run collectstatic (it measures the
    # views, not the static files), so names are served unhashed.
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.core.files.storage import storages
    from django.utils.functional import empty

    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    storages._storages = {}
    storages.__dict__.pop("backends", None)
    staticfiles_storage._wrapped = empty
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver", "127.0.0.1"]  # Django's test client
    # Keep one connection across requests (as a pooled server would), so query counts are visible.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    names = bench_modules()
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in argv] or names
    started = datetime.datetime.now(datetime.UTC)
    header = {"date": started.isoformat(timespec="seconds"), "machine": machine(), "debug": settings.DEBUG,
              "database": f"{connection.vendor} {connection.pg_version if is_pg else ''}".strip(),
              "fresh_database": fresh, "bench_scale": os.environ.get("BENCH_SCALE", "")}
    print("== make bench", json.dumps(header, ensure_ascii=False))
    results, summary, failed = {"_run": header}, [], False
    for name in wanted:
        print(f"== {name}", flush=True)
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            rows = module.run()
        except SystemExit as exc:  # util.Skip is a SystemExit: the module cannot run here
            reason = str(exc.code if exc.code is not None else exc)
            print(f"   skipped: {reason}")
            results[name] = {"skipped": reason}
            summary.append(f"{name}: skipped ({reason})")
            continue
        except Exception as exc:  # report and go on: one broken bench does not hide the others
            traceback.print_exc()
            results[name] = {"error": repr(exc)}
            summary.append(f"{name}: ERROR {exc!r}")
            failed = True
            continue
        for row in rows:
            print("   " + ", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        results[name] = rows
        if hasattr(module, "summary"):
            summary.extend(f"{name}: {line}" for line in module.summary(rows))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    body = json.dumps(results, ensure_ascii=False, indent=2, default=str)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    (out / f"{stamp}.json").write_text(body)
    (out / "latest.json").write_text(body)
    print("== summary", header["date"], header["machine"], f"DEBUG={header['debug']}", header["database"])
    for line in summary:
        print("   " + line)
    print(f"results in {out / f'{stamp}.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
