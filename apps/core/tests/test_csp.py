"""The Content Security Policy allows scripts from this site only: no template may need more."""
import re
from pathlib import Path

from django.conf import settings

from apps.core.testing import page_client

ROOT = Path(settings.BASE_DIR)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def _templates():
    for base in [ROOT / "templates", *sorted((ROOT / "apps").glob("*/templates"))]:
        yield from sorted(base.rglob("*.html"))


def test_no_template_holds_an_inline_script_or_handler():
    offenders = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, JS_URL):
            for m in pattern.finditer(text):
                if "application/json" in m.group(0):  # json_script data blocks are not executed
                    continue
                offenders.append(f"{path.relative_to(ROOT)}: {m.group(0)[:60]}")
    assert not offenders, "\n".join(offenders)


def test_pages_carry_the_policy_and_it_forbids_inline_script(world):
    response = page_client(world.town1).get("/cockpit/")
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
