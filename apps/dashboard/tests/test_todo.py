"""The to-do home: every count is the number of rows of the list it links to, for every demo role."""
import pytest
from django.core.management import call_command

from apps.core.testing import page_client
from apps.dashboard.todo import todo
from apps.orgs.models import User

DEMO_USERS = ["admin", "bureau", "yanglao", "shiwu", "town1", "town2", "home1", "home2"]


def rows_behind(client, url):
    """How many rows the list page behind ``url`` shows in all (over every page)."""
    response = client.get(url)
    assert response.status_code == 200, url
    ctx = response.context
    if ctx.get("paginator") is not None:
        return ctx["paginator"].count
    if "people" in ctx:  # training compliance, filtered by status
        return len(ctx["people"])
    raise AssertionError(f"no row count on {url}")


@pytest.fixture
def demo(db):
    call_command("seed_demo", quiet=True)


def test_every_count_equals_the_rows_of_its_list_for_each_demo_role(demo, django_assert_max_num_queries):
    seen_nonzero = set()
    for username in DEMO_USERS:
        user = User.objects.get(username=username)
        client = page_client(user)
        page = client.get("/")
        assert page.status_code == 200, username
        body = page.content.decode()
        groups, changes = page.context["groups"], page.context["changes"]
        for group in groups:
            for item in group.items:
                assert f'data-todo="{item.key}" data-count="{item.count}"' in body, (username, item.key)
                assert rows_behind(client, item.url) == item.count, (username, item.key, item.url)
                if item.count:
                    seen_nonzero.add(item.key)
        assert (changes is not None) == (username in {"admin", "bureau"}), username
        for change in changes or []:
            assert client.get(change.url).status_code == 200
    # the demo data give the lists something to count
    assert {"overdue", "to_verify", "missed_patrols"} <= seen_nonzero, seen_nonzero

    # which items a user gets follows the policy (one seeded database for all checks: seeding is slow)
    keys = {u: {i.key for g in todo(User.objects.get(username=u))[0] for i in g.items} for u in ("town1", "home1")}
    assert "to_require" in keys["town1"] and "extensions" in keys["town1"] and "documents" not in keys["town1"]
    assert "documents" in keys["home1"] and "to_plan" in keys["home1"] and "to_require" not in keys["home1"]

    # a bounded number of queries, whatever the scope (72 institutions for the bureau, one for a home)
    for username in ("admin", "town1", "home1"):
        user = User.objects.get(username=username)
        with django_assert_max_num_queries(30):
            todo(user)


def test_anonymous_goes_to_the_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
