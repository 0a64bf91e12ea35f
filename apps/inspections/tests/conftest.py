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
