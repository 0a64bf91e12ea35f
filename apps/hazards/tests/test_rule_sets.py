"""Rule sets as the law has them: the kinds each set applies to, the date a finding falls under,
the counting rules of GB 35181-2017, loading the authoritative text from a file."""
import datetime
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from apps.core.models import AuditEntry
from apps.core.testing import api_client, make_institution, page_client
from apps.hazards import rulebook
from apps.hazards import supervision as sup
from apps.hazards.models import RuleElement, RuleSet

from .helpers import general


def at(y, m, d):
    return datetime.datetime(y, m, d, 10, tzinfo=datetime.UTC)


def codes(kind, day):
    return set(RuleSet.objects.applicable(kind, day).values_list("code", flat=True))


def elements(code, *element_codes):
    rule_set = RuleSet.objects.get(code=code)
    found = list(RuleElement.objects.filter(rule_set=rule_set, code__in=element_codes))
    assert len(found) == len(element_codes), element_codes
    return rule_set, found


# --- which sets a finding falls under --------------------------------------------------------------

@pytest.mark.django_db
def test_gb35181_2017_ends_on_2025_10_31_and_2025_begins_on_2025_11_01():
    assert codes("funeral", datetime.date(2025, 10, 31)) == {"GB35181-2017"}
    assert codes("funeral", datetime.date(2025, 11, 1)) == {"GB35181-2025"}
    gb2017 = RuleSet.objects.get(code="GB35181-2017")
    assert gb2017.effective_until == datetime.date(2025, 10, 31) and gb2017.hazard_term == "fire"
    assert RuleSet.objects.get(code="GB35181-2025").effective_from == datetime.date(2025, 11, 1)


@pytest.mark.django_db
def test_each_civil_affairs_standard_applies_to_its_kinds_only_from_its_date():
    day = datetime.date(2026, 3, 1)
    assert codes("elderly_care", day) == {"GB35181-2025", "MZ-elderly-2023"}
    assert codes("destitute_support", day) == {"GB35181-2025", "MZ-elderly-2023"}
    assert codes("child_welfare", day) == {"GB35181-2025", "MZ-child-2024"}  # not the elderly-care standard
    assert codes("mental_welfare", day) == {"GB35181-2025", "MZ-mental-2025"}
    assert codes("funeral", day) == {"GB35181-2025"}
    assert codes("elderly_care", datetime.date(2023, 11, 26)) == {"GB35181-2017"}
    assert codes("elderly_care", datetime.date(2023, 11, 27)) == {"GB35181-2017", "MZ-elderly-2023"}
    assert codes("child_welfare", datetime.date(2024, 9, 11)) == {"GB35181-2017"}
    assert codes("mental_welfare", datetime.date(2025, 2, 18)) == {"GB35181-2017"}
    assert codes("mental_welfare", datetime.date(2025, 2, 19)) == {"GB35181-2017", "MZ-mental-2025"}
    for code, number, total in [("MZ-elderly-2023", "民办发〔2023〕13号", 22), ("MZ-child-2024", "民办发〔2024〕14号", 28),
                                ("MZ-mental-2025", "民办发〔2025〕1号", 17)]:
        rs = RuleSet.objects.get(code=code)
        assert (rs.number, rs.situations_total, rs.hazard_term, rs.issuer) == (number, total, "accident", "民政部办公厅")


@pytest.mark.django_db
def test_every_element_has_its_clause_and_only_checked_text_is_marked_verified():
    gb = RuleSet.objects.get(code="GB35181-2017")
    assert all(e.clause == e.code for e in gb.elements.all())
    assert set(gb.elements.filter(verified=True).values_list("code", flat=True)) <= {
        "7.1.1", "7.1.2", "7.2.1", "7.2.2", "7.3.1", "7.3.2", "7.3.3", "7.3.4", "7.3.5", "7.3.6"}
    assert not RuleElement.objects.filter(rule_set__code="GB35181-2025", verified=True).exists()
    assert gb.elements.get(code="7.3.3").text.endswith("或既有安全出口被封堵")
    assert {"7.3.8", "7.3.9", "7.3.10", "7.7.1", "7.8.2", "7.9.3", "7.9.4"} <= set(
        gb.elements.values_list("code", flat=True))
    assert all(e.clause for e in RuleElement.objects.filter(rule_set__code__startswith="MZ-"))
    # The elderly-care standard's Articles 4 and 5(1)-(3) were checked against the published text.
    elderly = RuleSet.objects.get(code="MZ-elderly-2023")
    assert set(elderly.elements.filter(verified=True).values_list("code", flat=True)) == {
        "4(1)", "4(2)", "4(3)", "4(4)", "5(1)", "5(2)", "5(3)"}
    assert "经住房城乡建设部门研判建筑安全存在重大隐患" in elderly.elements.get(code="4(1)").text


# --- the counting rules ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_2017_three_evacuation_elements_make_a_crowded_place_major_but_7_3_10_is_not_one_of_them():
    gb, three = elements("GB35181-2017", "7.3.3", "7.3.6", "7.3.9")
    level, reasons = sup.evaluate(gb, three, crowded_place=True)
    assert level == "major" and "7.3.3、7.3.6、7.3.9" in str(reasons[0])
    assert sup.evaluate(gb, three[:2], crowded_place=True)[0] == "general"
    _, with_windows = elements("GB35181-2017", "7.3.3", "7.3.6", "7.3.10")
    assert sup.evaluate(gb, with_windows, crowded_place=True)[0] == "general"
    assert sup.evaluate(gb, three, crowded_place=False)[0] == "general"  # other places: 6


@pytest.mark.django_db
def test_2017_any_four_comprehensive_elements_in_a_crowded_place_six_elsewhere():
    gb, four = elements("GB35181-2017", "7.1.1", "7.4.4", "7.7.1", "7.8.2")
    level, reasons = sup.evaluate(gb, four, crowded_place=True)
    assert level == "major" and "4" in str(reasons[-1])
    assert sup.evaluate(gb, four[:3], crowded_place=True)[0] == "general"
    assert sup.evaluate(gb, four, crowded_place=False)[0] == "general"
    _, six = elements("GB35181-2017", "7.1.1", "7.4.4", "7.7.1", "7.8.2", "7.9.3", "7.9.4")
    assert sup.evaluate(gb, six, crowded_place=False)[0] == "major"
    assert sup.evaluate(gb, six[:5], crowded_place=False)[0] == "general"


@pytest.mark.django_db
def test_2017_too_few_exits_is_direct_only_underground_and_7_3_3_for_a_care_home_above_ground():
    gb, exits = elements("GB35181-2017", "6.5")
    level, reasons = sup.evaluate(gb, exits, crowded_place=True)
    assert level == "general" and "6.5" in str(reasons[0])
    assert sup.evaluate(gb, exits, crowded_place=True, underground=True)[0] == "major"
    _, direct = elements("GB35181-2017", "6.10")
    assert sup.evaluate(gb, direct, crowded_place=False)[0] == "major"


@pytest.mark.django_db
def test_elements_count_only_when_the_hazard_cannot_be_put_right_at_once():
    gb, three = elements("GB35181-2017", "7.3.3", "7.3.6", "7.3.9")
    assert sup.evaluate(gb, three, crowded_place=True, fixed_on_spot=True)[0] == "general"


@pytest.mark.django_db
def test_each_civil_affairs_situation_alone_is_a_major_accident_hazard():
    mz, steel = elements("MZ-elderly-2023", "4(3)")
    level, reasons = sup.evaluate(mz, steel, crowded_place=False)
    assert level == "major"
    mental, operators = elements("MZ-mental-2025", "A2-operators")
    assert sup.evaluate(mental, operators)[0] == "major"


# --- the determination form and API ----------------------------------------------------------------

def test_the_form_offers_only_the_sets_the_finding_falls_under_and_names_the_law(world):
    hazard = general(world)  # found today: GB 35181-2025 and the elderly-care standard
    client = page_client(world.town1)

    def offered(h):
        page = client.get(f"/hazards/{h.pk}/determine/").content.decode()
        return {rs.code for rs in RuleSet.objects.all() if f'data-rule-set="{rs.pk}"' in page}, page

    sets, page = offered(hazard)
    assert sets == {"GB35181-2025", "MZ-elderly-2023"} and "民办发〔2023〕13号" in page and "重大事故隐患" in page
    assert offered(general(world, institution=world.inst1b))[0] == {"GB35181-2025", "MZ-child-2024"}
    assert offered(general(world, found_at=at(2025, 10, 1)))[0] == {"GB35181-2017", "MZ-elderly-2023"}
    gb2017, three = elements("GB35181-2017", "7.3.3", "7.3.6", "7.3.9")
    response = client.post(f"/hazards/{hazard.pk}/determine/", {
        "rule_set": gb2017.pk, "elements": [e.pk for e in three], "crowded_place": "on", "decide": "1",
        "decided_level": "major", "basis": "x"})
    assert response.status_code == 400 and not hazard.determinations.exists()
    r = api_client(world.town1).post(f"/api/v1/hazards/{hazard.pk}/determine/", {
        "rule_set": gb2017.pk, "elements": [], "decided_level": "general", "basis": "x"}, format="json")
    assert r.status_code == 400 and "rule_set" in r.json()
    mz, steel = elements("MZ-elderly-2023", "4(3)")
    response = client.post(f"/hazards/{hazard.pk}/determine/", {
        "rule_set": mz.pk, "elements": [steel[0].pk], "decide": "1", "decided_level": "major",
        "basis": "彩钢板芯材为聚苯乙烯"})
    assert response.status_code == 302
    det = hazard.determinations.get()
    assert det.rule_set_revision == mz.revision and det.conclusion == "重大事故隐患（民办发〔2023〕13号）"
    assert "重大事故隐患（民办发〔2023〕13号）" in client.get(hazard.get_absolute_url()).content.decode()


def test_a_finding_before_2025_11_01_stays_under_2017(world):
    hazard = general(world, found_at=at(2025, 10, 31))
    with pytest.raises(ValidationError):
        sup.determine(world.town1, hazard, rule_set=RuleSet.objects.get(code="GB35181-2025"), elements=[],
                      crowded_place=True, decided_level="general", basis="x")
    det = sup.determine(world.town1, hazard, rule_set=RuleSet.objects.get(code="GB35181-2017"), elements=[],
                        crowded_place=True, decided_level="general", basis="x")
    assert det.rule_set.code == "GB35181-2017"


# --- loading the authoritative text ----------------------------------------------------------------

def _child_file(**changes):
    data = rulebook.shipped("mz-child-2024.json")
    data["elements"] = [
        {"code": "3(1)", "clause": "第三条第（一）项", "kind": "direct", "group": "building", "verified": True,
         "text": "选址不符合国家有关规定"},
        {"code": "4(1)", "clause": "第四条第（一）项", "kind": "direct", "group": "facilities", "text": "设施设备"},
    ]
    data.update(changes)
    return data


@pytest.mark.django_db
def test_the_shipped_files_are_valid():
    for name in ["gb35181-2017.json", "gb35181-2025.json", "mz-elderly-2023.json", "mz-child-2024.json",
                 "mz-mental-2025.json"]:
        assert rulebook.validate(rulebook.shipped(name))["code"]


def test_a_loaded_file_is_versioned_and_in_the_trail(world):
    before = RuleSet.objects.get(code="MZ-child-2024").revision
    rule_set, changes = rulebook.load(world.admin, _child_file(), filename="child.json")
    assert rule_set.revision == before + 1 and "+3(1)" in changes
    assert rule_set.elements.get(code="3(1)").verified
    entry = AuditEntry.objects.filter(action="hazards.rule_set_load").latest("pk")
    assert entry.after["revision"] == before + 1 and entry.after["file"] == "child.json"
    same, changes = rulebook.load(world.admin, _child_file())
    assert same.revision == before + 1 and changes == []  # nothing changed, no new revision


def test_an_element_a_decision_used_is_never_removed_but_may_be_renamed(world):
    hazard = general(world, institution=world.inst1b)
    rule_set, _ = rulebook.load(world.admin, _child_file())
    used = rule_set.elements.get(code="3(1)")
    sup.determine(world.town1, hazard, rule_set=rule_set, elements=[used], crowded_place=True,
                  decided_level="major", basis="x")
    data = _child_file()
    data["elements"] = data["elements"][1:]
    with pytest.raises(ValidationError, match="3\\(1\\)"):
        rulebook.load(world.admin, data)
    assert RuleElement.objects.filter(pk=used.pk).exists()
    data = _child_file(renames={"3(1)": "3-1"})
    data["elements"][0]["code"] = "3-1"
    rulebook.load(world.admin, data)
    used.refresh_from_db()
    assert used.code == "3-1" and hazard.determinations.get().elements.get() == used


@pytest.mark.django_db
@pytest.mark.parametrize("change, message", [
    ({"institution_kinds": ["casino"]}, "institution_kinds"),
    ({"effective_until": "2020-01-01"}, "最后一天"),
    ({"hazard_term": "danger"}, "hazard_term"),
    ({"params": {"crowded_evacuation_codes": ["9.9"]}}, "9.9"),
    ({"elements": [{"code": "a", "kind": "direct", "text": "x"}, {"code": "a", "kind": "direct", "text": "y"}]},
     "a"),
    ({"elements": [{"code": "a", "kind": "sometimes", "text": "x"}]}, "elements/0/kind"),
])
def test_a_bad_file_is_refused_with_the_reason_and_nothing_changes(change, message):
    before = list(RuleElement.objects.values_list("pk", "text"))
    with pytest.raises(ValidationError) as exc:
        rulebook.load(None, _child_file(**change))
    assert message in " ".join(exc.value.messages)
    assert list(RuleElement.objects.values_list("pk", "text")) == before


def test_the_bureau_uploads_json_or_excel_on_the_page_others_may_not(world):
    from openpyxl import Workbook

    url = "/hazards/rule-sets/"
    page = page_client(world.town1).get(url).content.decode()
    assert "民办发〔2025〕1号" in page and "rule-set-upload" not in page
    upload = SimpleUploadedFile("child.json", json.dumps(_child_file()).encode(), content_type="application/json")
    assert page_client(world.town1).post(url, {"file": upload}).status_code == 403
    admin = page_client(world.admin)
    upload = SimpleUploadedFile("child.json", json.dumps(_child_file()).encode(), content_type="application/json")
    assert admin.post(url, {"file": upload}).status_code == 302
    assert RuleSet.objects.get(code="MZ-child-2024").elements.count() == 2
    bad = SimpleUploadedFile("child.json", b"{not json", content_type="application/json")
    response = admin.post(url, {"file": bad})
    assert response.status_code == 400 and "JSON" in response.content.decode()
    book = Workbook()
    sheet = book.active
    sheet.title = "rule_set"
    sheet.append(["field", "value"])
    for key, value in _child_file().items():
        if key not in ("elements", "format"):
            sheet.append([key, json.dumps(value, ensure_ascii=False) if isinstance(value, dict)
                          else ",".join(value) if isinstance(value, list) else value])
    elements_sheet = book.create_sheet("elements")
    elements_sheet.append(["code", "clause", "kind", "group", "text", "verified"])
    elements_sheet.append(["3(1)", "第三条第（一）项", "direct", "building", "选址不符合国家有关规定（Excel）", "是"])
    buf = io.BytesIO()
    book.save(buf)
    upload = SimpleUploadedFile("child.xlsx", buf.getvalue())
    assert admin.post(url, {"file": upload}).status_code == 302
    rs = RuleSet.objects.get(code="MZ-child-2024")
    assert list(rs.elements.values_list("text", flat=True)) == ["选址不符合国家有关规定（Excel）"]


def test_the_command_checks_and_loads_a_file(world, tmp_path):
    path = tmp_path / "child.json"
    path.write_text(json.dumps(_child_file(), ensure_ascii=False), encoding="utf-8")
    out = io.StringIO()
    call_command("load_rule_set", str(path), "--check", stdout=out)
    assert "valid, 2 elements" in out.getvalue() and not RuleSet.objects.get(code="MZ-child-2024").elements.exists()
    call_command("load_rule_set", str(path), stdout=out)
    assert RuleSet.objects.get(code="MZ-child-2024").elements.count() == 2
    path.write_text(json.dumps(_child_file(hazard_term="x")), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("load_rule_set", str(path))


def test_a_care_home_of_another_kind_is_offered_its_own_standard(world):
    inst = make_institution(world.t1, "一号精神卫生福利院", kind="mental_welfare")
    hazard = general(world, institution=inst)
    page = page_client(world.town1).get(f"/hazards/{hazard.pk}/determine/").content.decode()
    mental, elderly = RuleSet.objects.get(code="MZ-mental-2025"), RuleSet.objects.get(code="MZ-elderly-2023")
    assert f'data-rule-set="{mental.pk}"' in page and f'data-rule-set="{elderly.pk}"' not in page


def test_the_api_lists_the_sets_a_finding_falls_under(world):
    client = api_client(world.town1)
    child = general(world, institution=world.inst1b)
    rows = client.get(f"/api/v1/hazard-rule-sets/?hazard={child.pk}").json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert {r["code"] for r in rows} == {"GB35181-2025", "MZ-child-2024"}
    child_set = next(r for r in rows if r["code"] == "MZ-child-2024")
    assert child_set["number"] == "民办发〔2024〕14号" and child_set["hazard_term"] == "accident"
    assert client.get("/api/v1/hazard-rule-sets/?hazard=x").status_code == 400
    other = general(world, institution=world.inst2)
    assert client.get(f"/api/v1/hazard-rule-sets/?hazard={other.pk}").status_code == 404  # out of scope
