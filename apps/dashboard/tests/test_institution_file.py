"""一院一档: one institution's file on one printable page, in scope, in a fixed number of queries."""
import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.testing import page_client
from apps.hazards.tests.helpers import general, listed
from apps.ledger.models import Building


def _file(world):
    Building.objects.create(institution=world.inst1, name="一号楼", usage="居住", floors_above=3)
    hazard = general(world)
    supervision = listed(world)
    from apps.training.models import Drill

    Drill.objects.create(institution=world.inst1, date=timezone.localdate() - datetime.timedelta(days=10),
                         participants=17)
    return hazard, supervision


def test_the_file_holds_the_facts_hazards_supervisions_and_drills_and_prints(world):
    hazard, supervision = _file(world)
    body = page_client(world.town1).get(f"/cockpit/institutions/{world.inst1.pk}/file/").content.decode()
    assert world.inst1.name in body and "一号楼" in body and hazard.description in body
    assert supervision.number in body and ">17<" in body
    assert 'data-print id="print-file"' in body and "js/print.js" in body
    assert 'style="' not in body.split("<main", 1)[1] and "<script>" not in body
    # the institution page links to it
    assert f"/cockpit/institutions/{world.inst1.pk}/file/" in page_client(world.town1).get(
        f"/ledger/{world.inst1.pk}/").content.decode()


def test_the_file_takes_the_same_number_of_queries_however_much_it_holds(world):
    client = page_client(world.leader)
    url = f"/cockpit/institutions/{world.inst1.pk}/file/"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _file(world)
    for n in range(5):
        Building.objects.create(institution=world.inst1, name=f"楼{n}", usage="居住", floors_above=2)
        general(world, description=f"隐患{n}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
