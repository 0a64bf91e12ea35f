import pytest


@pytest.fixture
def world(db):
    from apps.core.testing import make_world

    return make_world()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
