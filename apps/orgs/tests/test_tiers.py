"""The tree of administrations: paths, scope by level, and query counts constant by depth."""
import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver

from apps.core.scope import institution_q, institution_viewers_q
from apps.core.testing import make_tiers, page_client
from apps.ledger.models import Institution
from apps.orgs.choices import OrgKind
from apps.orgs.models import Organization, User
from apps.orgs.tree import ancestor_paths, rebuild

pytestmark = pytest.mark.django_db


def test_paths_are_kept_on_save_and_follow_a_move():
    t = make_tiers(depth=3)
    province, city = t.levels
    assert province.path == f"{province.pk}."
    assert t.d1.bureau.path == f"{province.pk}.{city.pk}.{t.d1.bureau.pk}."
    t.d1.t1.refresh_from_db()
    assert t.d1.t1.path.startswith(t.d1.bureau.path) and t.d1.t1.admin_path == t.d1.bureau.path
    # The district moves directly under the province: its whole subtree follows.
    t.d1.bureau.parent = province
    t.d1.bureau.save()
    t.d1.t1.refresh_from_db()
    assert t.d1.t1.path == f"{province.pk}.{t.d1.bureau.pk}.{t.d1.t1.pk}."
    assert rebuild(Organization) == 0  # nothing left to fix
    assert ancestor_paths("1.7.12.") == ["1.", "1.7.", "1.7.12."]


def test_bureau_roles_see_their_administration_and_sections_their_kinds_under_it():
    t = make_tiers(depth=3)
    every = set(Institution.objects.values_list("pk", flat=True))
    d1 = {t.d1.inst1.pk, t.d1.inst1b.pk, t.d1.inst2.pk}
    d2 = every - d1
    seen = {u: set(Institution.objects.filter(institution_q(u, "")).values_list("pk", flat=True))
            for u in (t.d1.leader, t.d2.leader, t.city_leader, t.top_leader, t.city_section_user)}
    assert seen[t.d1.leader] == d1 and seen[t.d2.leader] == d2
    assert seen[t.city_leader] == every == seen[t.top_leader]
    elderly = set(Institution.objects.filter(kind="elderly_care").values_list("pk", flat=True))
    assert seen[t.city_section_user] == elderly
    # Both directions agree: who sees an institution is who the forward scope lets see it.
    users = list(User.objects.filter(is_active=True))
    for inst in Institution.objects.all():
        viewers = set(User.objects.filter(institution_viewers_q(inst)).values_list("pk", flat=True))
        forward = {u.pk for u in users if Institution.objects.filter(institution_q(u, ""), pk=inst.pk).exists()}
        assert viewers == forward, inst.name


def test_organisations_are_seen_under_the_administration_and_above_it():
    t = make_tiers(depth=3)
    seen = set(Organization.objects.filter(Organization.scope_q(t.d2.leader)).values_list("pk", flat=True))
    assert t.city.pk in seen and t.levels[0].pk in seen and t.d2.t1.pk in seen
    assert t.d1.t1.pk not in seen and t.d1.bureau.pk not in seen
    town = set(Organization.objects.filter(Organization.scope_q(t.d1.town1)).values_list("pk", flat=True))
    assert town == {t.levels[0].pk, t.city.pk, t.d1.bureau.pk, t.d1.t1.pk}


def test_the_kinds_of_the_tree():
    assert {OrgKind.PROVINCE, OrgKind.CITY, OrgKind.BUREAU} <= set(OrgKind)


def _list_urls():
    """Every list page and every API list of the site (not the Django admin)."""
    def walk(res, prefix=""):
        for p in res.url_patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p.name or ""

    urls = []
    for url, name in walk(get_resolver()):
        if url.startswith("admin/") or "<" in url or "(?P" in url:
            continue
        if url.startswith("api/v1/") and name.endswith("-list"):
            urls.append("/" + url.replace("^", "").replace("$", ""))
        elif not url.startswith("api/") and (name.endswith("_list") or name.startswith("list_")):
            urls.append("/" + url)
    # Rejected messages belong to no institution and no administration: the operators' page, hidden
    # (404) from the leaders this test asks.
    return sorted(set(urls) - {"/monitoring/dead-letters/"}) + ["/cockpit/"]


def _counts(user, urls):
    client = page_client(user)
    counts = {}
    for url in urls:
        cache.clear()
        client.get(url)  # warm what is computed once (risk rows, sessions)
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        counts[url] = len(ctx.captured_queries)
    return counts


def test_query_counts_of_every_list_and_the_cockpit_do_not_grow_with_depth():
    """The same district seen at depth 1 to 4 (a district alone, under a city, a province, a
    province with two city levels): each list and the cockpit costs the same number of queries for
    the district leader, and for the leader at the top (who sees both districts) from depth 2 on."""
    urls = _list_urls()
    assert "/ledger/" in urls and "/api/v1/hazards/" in urls and len(urls) > 30
    district, top = {}, {}
    for depth in (1, 2, 3, 4):
        with transaction.atomic():
            t = make_tiers(depth=depth)
            district[depth] = _counts(t.d1.leader, urls)
            # The cockpit by level: drilled down to a township, and the lists its numbers link to.
            district[depth].update(_drill_counts(t.d1.leader, t.d1.t1, "township"))
            if depth > 1:
                top[depth] = _counts(t.top_leader, urls)
                # The top leader drills down to the district, then to one of its townships.
                top[depth].update(_drill_counts(t.top_leader, t.d1.bureau, "district"))
                top[depth].update(_drill_counts(t.top_leader, t.d1.t1, "township"))
            transaction.set_rollback(True)
    assert district[1] == district[2] == district[3] == district[4]
    assert top[2] == top[3] == top[4]


def _drill_counts(user, area, label):
    """Query counts of the cockpit drilled down to ``area`` and of the lists behind its comparison
    (keyed by what they are, not by ids, so depths compare); every row the comparison shows."""
    from apps.dashboard.cockpit import Cockpit

    urls = {f"/cockpit/?area={area.pk}": f"cockpit:{label}"}
    c = Cockpit(user, **({"township": area} if label == "township" else {"area": area}))
    assert c.unit_rows, label
    for tile in c.unit_tiles()[:12]:
        path, _, query = tile.url.partition("?")
        kept = "&".join(p for p in query.split("&") if not p.startswith(("area=", "institution=")))
        urls[tile.url] = f"{label}:{path}?{kept}:{tile.key}"
    counts = _counts(user, list(urls))
    return {urls[u]: n for u, n in counts.items()}
