import pytest


@pytest.fixture(autouse=True)
def _rule_data(request):
    """The checklists and frequency rules of the data migration, even after a transactional test's flush."""
    if request.node.get_closest_marker("django_db") is None and "world" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db" if _transactional(request) else "db")
    from .helpers import ensure_rules

    ensure_rules()


def _transactional(request):
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction"))


@pytest.fixture
def world(db):
    """The shared test world, its institutions entered on the platform long before the days the tests
    ask about (missed patrols are counted from the day an institution was entered, never before)."""
    import datetime

    from django.utils import timezone

    from apps.core.testing import make_world
    from apps.ledger.models import Institution

    w = make_world()
    Institution.objects.update(created=timezone.now() - datetime.timedelta(days=3650))
    for inst in (w.inst1, w.inst1b, w.inst2):
        inst.refresh_from_db()
    return w
