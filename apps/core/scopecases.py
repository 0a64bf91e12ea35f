"""The scope matrix: every app lists its pages and endpoints for one object of ``inst1``.

Each app's ``tests/scope_cases.py`` defines ``CASES``, a list of ``ScopeCase``; the matrix
test in ``apps/core/tests/test_scope_matrix.py`` tries each case as every user of the test
world: the ``readers`` must get ``ok`` (200 by default), every outsider must get 404.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

INSIDERS = ("admin", "leader", "sec_elderly_user", "town1", "home1", "staff1")
OUTSIDERS = ("sec_social_user", "unit_user", "town2", "home2")


@dataclass
class ScopeCase:
    name: str
    url: Callable  # world -> url of a page or endpoint about an object of inst1
    method: str = "get"
    data: Callable | None = None  # world -> request body (for POST/PUT/PATCH)
    api: bool = False
    readers: tuple = INSIDERS  # who must get ``ok``
    ok: tuple = (200,)
    outsiders: tuple = OUTSIDERS  # who must get 404
    setup: Callable | None = None  # world -> None, to build the object first
    extra: dict = field(default_factory=dict)
