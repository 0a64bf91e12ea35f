"""A crawl of the pages as every role of the test world finds none of the words the glossary marks wrong.

The wrong words came from translation catalogues that collide (Django merges them and one wins):
the key-unit badge read 键, a training batch's sessions 会话, the risk group 人员 跟踪人员, the
reports' closed-hazard column 已停业. The crawl starts at the home page and follows the links a
user is shown (one page per URL shape), as each role; ``docs/glossary.md`` says which terms are
wrong where (its "where used" column: a path prefix, or * for every page).
"""
import datetime
import importlib.util
import re
from collections import deque
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from apps.assessment.models import FireIncident
from apps.core.audit import acting_as
from apps.core.testing import page_client
from apps.hazards.services import report_hazard

pytestmark = pytest.mark.django_db

ROLES = ("admin", "leader", "sec_elderly_user", "town1", "home1", "staff1")
SKIP = re.compile(r"^/(static|media|admin|api|accounts|i18n|healthz)|/(new|edit|delete|export)/|format=|logout")
MAX_PAGES = 120


def _glossary_rules():
    spec = importlib.util.spec_from_file_location(
        "check_translations", Path(settings.BASE_DIR) / "scripts" / "check_translations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.glossary_rules()


def _shape(path):
    """One page per URL shape: /hazards/12/ and /hazards/13/ are the same page."""
    return re.sub(r"\d+", "N", path)


def _crawl(client):
    seen, pages, queue = set(), {}, deque(["/"])
    while queue and len(pages) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        body = response.content.decode()
        pages[url] = body
        for href in re.findall(r'href="(/[^"#]*)"', body):
            href = href.replace("&amp;", "&")
            path = href.split("?")[0]
            if SKIP.search(href) or _shape(path) in seen:
                continue
            seen.add(_shape(path))
            queue.append(path)
    return pages


def _data(world):
    world.inst1.is_key_unit = True
    world.inst1.save()
    with acting_as(world.town1):
        report_hazard(world.town1, world.inst1, category="evacuation", description="安全出口锁闭", level="major")
        report_hazard(world.town1, world.inst1, category="electrical", description="插线板串接")
    FireIncident.objects.create(institution=world.inst1, occurred_at=timezone.now() - datetime.timedelta(days=30),
                                place="厨房", handling="扑灭")
    from apps.training.models import TrainingBatch

    batch = TrainingBatch.objects.create(name="第一期消防安全培训", category="all_staff", organizer_org=world.bureau)
    batch.institutions.set([world.inst1])


def test_no_page_shows_a_word_the_glossary_marks_wrong_as_any_role(world):
    rules = [(where, term, msgid) for _ctx, msgid, wrong, where in _glossary_rules() for term in wrong if where]
    assert any(term == "键" for _w, term, _m in rules) and any(term == "会话" for _w, term, _m in rules)
    _data(world)
    visited = set()
    found = []
    for role in ROLES:
        pages = _crawl(page_client(getattr(world, role)))
        visited |= set(pages)
        for url, body in pages.items():
            for where, term, msgid in rules:
                if (where == "*" or url.startswith(where)) and term in body:
                    found.append(f"{role} {url}: {term} ({msgid})")
    assert not found, "\n".join(found)
    # The crawl reached the pages where the wrong words used to be.
    for prefix in ("/ledger/", "/assessment/risk/", "/cockpit/reports/", "/training/batches/", "/hazards/",
                   "/monitoring/", "/inspections/"):
        assert any(url.startswith(prefix) for url in visited), prefix
