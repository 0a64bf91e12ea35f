"""The self-inspection form on a phone: a bad photo is an error of its item (marked, named in the
banner) and costs neither the item's good photo nor anything else; "all pass" is offered."""
import re

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.models import Attachment
from apps.core.testing import page_client
from apps.inspections import services
from apps.inspections.models import Inspection

from .helpers import png, template


def test_a_bad_photo_marks_its_item_and_the_good_photo_is_kept_for_the_next_try(world):
    inspection = services.start_inspection(world.home1, world.inst1, template())
    items = list(inspection.items.all())
    client = page_client(world.home1)
    data = {"inspector_name": "王自查", "responsible_name": "李院长"}
    for item in items:
        data[f"result-{item.pk}"] = "pass"
    data[f"result-{items[1].pk}"] = "fail"
    data[f"note-{items[1].pk}"] = "灭火器过期"
    data[f"photo-{items[1].pk}"] = [png("good.png"), SimpleUploadedFile("bad.png", b"not an image", "image/png")]
    response = client.post(f"/inspections/{inspection.pk}/fill/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "bad.png" in html  # the error names the file
    assert f'href="#item-{items[1].pk}"' in html  # the banner links to the marked item
    card = re.search(rf'<div class="card mb-2 ([^"]*)" id="item-{items[1].pk}"', html).group(1)
    assert "border-danger" in card
    kept = re.findall(rf'name="kept-{items[1].pk}" value="([^"]+)"', html)
    assert len(kept) == 1 and kept[0].endswith("good.png")
    assert not Attachment.objects.exists() and Inspection.objects.get().state == "draft"
    assert 'data-all-pass="#fill-form"' in html
    # The next try sends only what was missing: the kept photo comes along.
    data.pop(f"photo-{items[1].pk}")
    data[f"kept-{items[1].pk}"] = kept
    response = client.post(f"/inspections/{inspection.pk}/fill/", data)
    assert response.status_code == 302
    items[1].refresh_from_db()
    assert Attachment.objects.filter(object_id=str(items[1].pk)).count() == 1
    assert items[1].hazard is not None


def test_someone_elses_kept_photo_is_ignored(world):
    inspection = services.start_inspection(world.home1, world.inst1, template())
    items = list(inspection.items.all())
    data = {"inspector_name": "王", "responsible_name": "李"}
    for item in items:
        data[f"result-{item.pk}"] = "pass"
    data[f"kept-{items[0].pk}"] = [f"pending-uploads/{world.home2.pk}/x/good.png", "../../etc/passwd"]
    response = page_client(world.home1).post(f"/inspections/{inspection.pk}/fill/", data)
    assert response.status_code == 302
    assert not Attachment.objects.exists()


def test_start_a_patrol_round_preselects_the_managers_own_institution(world):
    html = page_client(world.home1).get("/inspections/patrols/new/").content.decode()
    assert re.search(rf'<option value="{world.inst1.pk}" selected>', html)
