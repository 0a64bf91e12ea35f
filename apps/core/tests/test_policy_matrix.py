"""The policy matrix: for registered actions, every role gets the same answer from the page and
the API, and both agree with ``user.can`` (allowed: the page opens and the API writes; refused:
403 in both). Field rules likewise: a refused field is refused in both (form error / 400 naming
it), an allowed one is saved by both.

Each row names an action, a page request and an API request about objects of ``inst1``; the users
are the insiders of ``inst1`` (outsiders get 404 from the scope first: the scope matrix).
"""
import datetime
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from apps.core import policy
from apps.core.testing import api_client, page_client
from apps.inspections.tests.helpers import template

INSIDERS = ("admin", "leader", "sec_elderly_user", "town1", "home1", "staff1")


@dataclass
class Row:
    action: str
    page: Callable  # world -> url of the page that takes the action (GET)
    api: Callable  # world -> (method, url, body)
    obj: Callable | None = None  # world -> the object the action is about (for user.can)


ROWS = [
    Row("inspection.record", lambda w: "/inspections/checkpoints/new/",
        lambda w: ("post", "/api/v1/checkpoints/", {"institution": w.inst1.pk, "name": "一楼走廊"}),
        lambda w: w.inst1),
    Row("inspection.record", lambda w: "/inspections/new/",
        lambda w: ("post", "/api/v1/inspections/", {"institution": w.inst1.pk, "template": template().pk}),
        lambda w: w.inst1),
    Row("inspection.record", lambda w: "/inspections/patrols/new/",
        lambda w: ("post", "/api/v1/patrols/", {"institution": w.inst1.pk}), lambda w: w.inst1),
    Row("hazard.report", lambda w: "/hazards/new/",
        lambda w: ("post", "/api/v1/hazards/", {"institution": w.inst1.pk, "category": "electrical",
                                                "description": "插线板串接", "source": "other"})),
    Row("ledger.edit", lambda w: f"/ledger/{w.inst1.pk}/edit/",
        lambda w: ("patch", f"/api/v1/institutions/{w.inst1.pk}/", {"beds": 61})),
    Row("ledger.create", lambda w: "/ledger/new/",
        lambda w: ("post", "/api/v1/institutions/", {"name": "矩阵养老院", "kind": "elderly_care", "nature": "public",
                                                     "township": w.t1.pk, "address": "矩阵路1号", "beds": 20,
                                                     "residents": 10})),
    Row("campaign.run", lambda w: "/inspections/campaigns/new/",
        lambda w: ("post", "/api/v1/campaigns/", {"name": "矩阵专项行动", "townships": [w.t1.pk],
                                                  "starts_on": "2026-01-01", "ends_on": "2026-12-31"})),
]


def test_every_row_names_a_registered_action():
    for row in ROWS:
        policy.registry.action(row.action)


@pytest.mark.parametrize("who", INSIDERS)
@pytest.mark.parametrize("row", ROWS, ids=[f"{r.action}-{n}" for n, r in enumerate(ROWS)])
def test_page_and_api_agree_with_the_policy(world, row, who):
    user = getattr(world, who)
    allowed = user.can(row.action, row.obj(world) if row.obj else None)
    page = page_client(user).get(row.page(world))
    method, url, body = row.api(world)
    api = getattr(api_client(user), method)(url, body, format="json")
    if allowed:
        assert page.status_code == 200, (who, row.page(world), page.status_code)
        assert api.status_code in (200, 201), (who, url, api.status_code, api.content[:300])
    else:
        assert page.status_code == 403, (who, row.page(world), page.status_code)
        assert api.status_code == 403, (who, url, api.status_code, api.content[:300])


@pytest.mark.parametrize("who", ["admin", "sec_elderly_user", "town1", "home1"])
def test_field_rules_agree_between_page_and_api(world, who):
    """Changing where an institution sits in the tree: refused in both or saved by both."""
    from apps.ledger.tests.test_ledger import _form_data

    user = getattr(world, who)
    locked = "is_key_unit" in policy.locked_fields(user, type(world.inst1))
    page = page_client(user).post(f"/ledger/{world.inst1.pk}/edit/",
                                  _form_data(world.inst1, is_key_unit="on", person_changed_on=datetime.date.today()))
    world.inst1.refresh_from_db()
    page_saved = world.inst1.is_key_unit
    if page_saved:
        world.inst1.is_key_unit = False
        world.inst1.save()
    api = api_client(user).patch(f"/api/v1/institutions/{world.inst1.pk}/", {"is_key_unit": True}, format="json")
    world.inst1.refresh_from_db()
    if locked:
        assert not page_saved and "您的角色不能修改此字段" in page.content.decode()
        assert api.status_code == 400 and "is_key_unit" in api.json() and not world.inst1.is_key_unit
    else:
        assert page_saved and page.status_code == 302, page.content.decode()[:500]
        assert api.status_code == 200 and world.inst1.is_key_unit
