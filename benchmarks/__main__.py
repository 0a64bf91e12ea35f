import importlib
import json
import os
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firesafe.settings")
os.environ.setdefault("DEBUG", "1")
# A throwaway database unless DATABASE_URL names one (e.g. a PostgreSQL bench database).
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")


def _create_postgres_database_if_missing(url):
    """`make bench DATABASE_URL=postgres://.../fs_bench` should not need a manual createdb."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    if "postgresql" not in cfg["ENGINE"]:
        return
    admin = psycopg.connect(host=cfg["HOST"] or None, port=cfg["PORT"] or None, user=cfg["USER"] or None,
                            password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True)
    with admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
            admin.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def main(argv):
    import django

    _create_postgres_database_if_missing(os.environ["DATABASE_URL"])

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the benchmarks use Django's test client
    # Keep one connection across requests (as a pooled server would), so query counts are visible.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    names = [m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_")]
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in argv] or names
    results = {}
    for name in wanted:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}")
        rows = module.run()
        for row in rows:
            print("   " + ", ".join(f"{k}={v}" for k, v in row.items()))
        results[name] = rows
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    print(f"results in {out / 'latest.json'}")


if __name__ == "__main__":
    main(sys.argv[1:])
