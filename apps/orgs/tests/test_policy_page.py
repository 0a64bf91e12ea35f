"""The policy is visible: a page for the bureau administrator and the table in the architecture doc."""
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from apps.core import policy
from apps.core.testing import page_client


def test_the_administrator_sees_every_action_and_field_rule(world):
    response = page_client(world.admin).get("/orgs/policy/")
    assert response.status_code == 200
    body = response.content.decode()
    for name in policy.registry.actions:
        assert f"<code class=\"small text-secondary\">{name}</code>" in body
    assert "ledger.Institution" in body and "operator_unit" in body
    assert "权限一览" in body


@pytest.mark.parametrize("who", ["leader", "sec_elderly_user", "town1", "home1", "staff1"])
def test_only_the_administrator_opens_it(world, who):
    assert page_client(getattr(world, who)).get("/orgs/policy/").status_code == 403


def test_the_architecture_doc_carries_the_current_table(tmp_path):
    doc = Path(settings.BASE_DIR) / "docs" / "architecture.md"
    call_command("policy_table", "--check")  # the committed doc is up to date
    stale = tmp_path / "architecture.md"
    stale.write_text(doc.read_text(encoding="utf-8").replace("`hazard.verify`", "`hazard.ok`"), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("policy_table", "--check", "--path", str(stale))
    call_command("policy_table", "--path", str(stale))
    assert stale.read_text(encoding="utf-8") == doc.read_text(encoding="utf-8")
