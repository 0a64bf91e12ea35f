"""Names sort by pinyin; townships and institutions by the bureau's own order first."""
from apps.core.pinyin import sort_key
from apps.core.testing import make_institution
from apps.orgs.choices import OrgKind
from apps.orgs.models import Organization


def test_sort_key_is_pinyin():
    names = ["南桥镇", "东湖街道", "城关街道", "北岭乡"]
    assert sorted(names, key=sort_key) == ["北岭乡", "城关街道", "东湖街道", "南桥镇"]


def test_townships_follow_the_bureaus_order_then_pinyin(db):
    bureau = Organization.objects.create(name="区民政局", kind=OrgKind.BUREAU)
    for name in ["南桥镇", "东湖街道", "城关街道", "北岭乡"]:
        Organization.objects.create(name=name, kind=OrgKind.TOWNSHIP, parent=bureau)
    townships = Organization.objects.filter(kind=OrgKind.TOWNSHIP)
    assert [t.name for t in townships] == ["北岭乡", "城关街道", "东湖街道", "南桥镇"]
    Organization.objects.filter(name="南桥镇").update(order=0)
    Organization.objects.exclude(name="南桥镇").filter(kind=OrgKind.TOWNSHIP).update(order=1)
    assert [t.name for t in townships.all()][0] == "南桥镇"
    town = townships.get(name="东湖街道")
    a, b = make_institution(town, "中心敬老院"), make_institution(town, "爱心养老院")
    from apps.ledger.models import Institution

    assert list(Institution.objects.filter(pk__in=[a.pk, b.pk])) == [b, a]  # ai < zhong
    b.order = 2
    b.save()
    assert list(Institution.objects.filter(pk__in=[a.pk, b.pk])) == [a, b]
