"""The lean list path answers exactly what the serializers answered, field by field, in a constant
number of queries; counts are exact while cheap and estimated (and said so) beyond."""
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.testing import api_client

# The module-scoped demo (seeded once, flushed after) on one xdist worker: split over workers, or
# interleaved with other files' tests, it would be seeded and flushed again (`--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("lean-demo")

LISTS = [
    ("/api/v1/hazards/", "apps.hazards.api.views.HazardViewSet"),
    ("/api/v1/alarms/", "apps.monitoring.api.urls.AlarmViewSet"),
    ("/api/v1/devices/", "apps.monitoring.api.urls.DeviceViewSet"),
    ("/api/v1/institutions/", "apps.ledger.api.urls.InstitutionViewSet"),
    ("/api/v1/inspections/", "apps.inspections.api.urls.InspectionViewSet"),
]


def _viewset(dotted):
    import importlib

    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo seeded once for the module (committed), and the database put back as it was after:
    flushed without re-running post_migrate, then the rows of the migrations (rule sets, content
    types …) restored, as Django's ``serialized_rollback`` does, so later tests find them."""
    from django.db import connection

    with django_db_blocker.unblock():
        before = connection.creation.serialize_db_to_string()
        call_command("seed_demo", verbosity=0)
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
        connection.creation.deserialize_db_from_string(before)
        # Restored rows keep their ids; PostgreSQL's sequences must move past them again.
        from django.apps import apps
        from django.core.management.color import no_style

        statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True))
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


@pytest.mark.parametrize(("url", "dotted"), LISTS)
def test_lean_rows_equal_serializer_rows(demo, db, url, dotted, monkeypatch):
    from apps.orgs.models import User

    viewset = _viewset(dotted)
    for username in ("admin", "town1", "home1"):
        client = api_client(User.objects.get(username=username))
        body = client.get(url, {"page_size": 500}).json()
        monkeypatch.setattr(viewset, "lean_enabled", False)  # the same request through the ModelSerializer
        old = client.get(url, {"page_size": 500}).json()
        monkeypatch.setattr(viewset, "lean_enabled", True)
        assert {k: v for k, v in body.items() if k != "results"} == {k: v for k, v in old.items() if k != "results"}
        expected = old["results"]
        assert body["count"] == len(expected) and body["count_exact"] is True
        assert len(body["results"]) == len(expected)
        for got, want in zip(body["results"], expected, strict=True):
            assert list(got) == list(want), url  # same fields in the same order
            for key in want:
                assert got[key] == want[key], (url, username, key, got["id"])
    assert expected, f"the demo has rows for {url}"


@pytest.mark.parametrize(("url", "dotted"), LISTS)
def test_lean_list_query_count_is_constant(demo, db, url, dotted):
    from apps.orgs.models import User

    client = api_client(User.objects.get(username="admin"))
    # Once before counting: a connection's one-time probes (SQLite asks once whether it has JSON
    # functions, on the first JSON expression) are not the list's queries.
    assert client.get(url, {"page_size": 1}).status_code == 200
    counts = []
    for size in (1, 500):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"page_size": size}).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 8, counts


def test_browsable_api_keeps_the_serializer(demo, db):
    from apps.core.testing import page_client
    from apps.orgs.models import User

    response = page_client(User.objects.get(username="admin")).get("/api/v1/hazards/?format=api")
    assert response.status_code == 200 and b"count_exact" in response.content


def test_count_is_estimated_past_the_limit(demo, db, settings):
    from apps.orgs.models import User

    settings.API_EXACT_COUNT_LIMIT = 3
    body = api_client(User.objects.get(username="admin")).get("/api/v1/hazards/", {"page_size": 2}).json()
    if connection.vendor == "postgresql":
        assert body["count_exact"] is False and body["count"] > 0
    else:  # no planner estimate on SQLite: exact
        assert body["count_exact"] is True
    assert len(body["results"]) == 2 and body["next"]


def test_openapi_page_names_count_exact(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    page = schema["components"]["schemas"]["PaginatedHazardList"]
    assert "count_exact" in page["properties"]


def test_a_large_estimate_skips_the_capped_count_and_a_short_page_is_exact(demo, db, settings):
    """From ``API_ESTIMATED_COUNT_FROM`` expected rows the estimate is answered without counting; a
    page that comes back short tells the real end (exact count, no ``next``); past it: not found."""
    from django.test.utils import CaptureQueriesContext

    from apps.hazards.models import Hazard
    from apps.orgs.models import User

    client = api_client(User.objects.get(username="admin"))
    real = client.get("/api/v1/hazards/").json()["count"]  # exact: the demo is below the limit
    assert real > 4 and Hazard.objects.exists()
    settings.API_EXACT_COUNT_LIMIT = 3
    settings.API_ESTIMATED_COUNT_FROM = 3
    with CaptureQueriesContext(connection) as ctx:
        body = client.get("/api/v1/hazards/", {"page_size": 2}).json()
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(body["results"]) == 2 and body["next"]
    if connection.vendor == "postgresql":
        assert body["count_exact"] is False and counts == []
    else:
        assert body["count_exact"] is True and body["count"] == real
    body = client.get("/api/v1/hazards/", {"page_size": 500}).json()
    assert body["count"] == real and body["count_exact"] is True and body["next"] is None
    assert client.get("/api/v1/hazards/", {"page_size": 2, "page": real}).status_code in (200, 404)
    assert client.get("/api/v1/hazards/", {"page_size": 2, "page": real * 1000}).status_code == 404


def test_a_list_opened_without_a_filter_builds_no_filterset(demo, db, monkeypatch):
    """?page/?page_size/?ordering skip the FilterSet (nothing to apply); any other parameter, a filter or a
    misspelt one, goes through it: a filter still filters and a bad value is still a 400."""
    from apps.hazards.filters import HazardFilter
    from apps.hazards.models import Hazard
    from apps.orgs.models import User

    built = []
    real_init = HazardFilter.__init__

    def counting_init(self, *args, **kwargs):
        built.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(HazardFilter, "__init__", counting_init)
    client = api_client(User.objects.get(username="admin"))
    body = client.get("/api/v1/hazards/", {"page_size": 500, "ordering": "-id"}).json()
    assert not built and body["count"] == Hazard.objects.count()
    assert [r["id"] for r in body["results"]] == sorted((r["id"] for r in body["results"]), reverse=True)
    filtered = client.get("/api/v1/hazards/", {"state": "closed", "page_size": 500}).json()
    assert built and filtered["count"] == Hazard.objects.filter(state="closed").count() < body["count"]
    built.clear()
    assert client.get("/api/v1/hazards/", {"institution": "not-an-id"}).status_code == 400
    assert built
