"""The i18n check (scripts/check_translations.py) finds collisions, run-time overrides and wrong terms."""
import importlib.util
from pathlib import Path

from django.conf import settings


def _check():
    spec = importlib.util.spec_from_file_location(
        "check_translations", Path(settings.BASE_DIR) / "scripts" / "check_translations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_msgid_translated_two_ways_in_two_catalogues_is_a_collision():
    check = _check()
    found = {(None, "Closed"): {"apps/ledger/…/django.po": "已停业", "apps/dashboard/…/django.po": "已销号"},
             ("hazard state", "Closed"): {"apps/hazards/…/django.po": "已销号"},
             (None, "Name"): {"a": "名称", "b": "名称"}}
    problems = check.collisions(found)
    assert len(problems) == 1 and "'Closed'" in problems[0] and "已停业" in problems[0]


def test_the_glossary_table_drives_the_wrong_term_check(tmp_path):
    check = _check()
    glossary = tmp_path / "glossary.md"
    glossary.write_text("| 中文 | English | msgid | context | where used | wrong terms |\n| --- | --- | --- | --- | --- | --- |\n"
                        "| 重点单位 | key unit | `Key unit` | | /ledger/ | 键 |\n"
                        "| 场次 | sessions | `Sessions` | `training` | /training/ | 会话、批 |\n"
                        "| 回头看 | look-back | | | | |\n", encoding="utf-8")
    rules = check.glossary_rules(glossary)
    assert rules == [(None, "Key unit", ["键"], "/ledger/"), ("training", "Sessions", ["会话", "批"], "/training/")]
    found = {(None, "Key unit"): {"ledger": "键"}, ("training", "Sessions"): {"training": "场次"}}
    assert check.wrong_terms(found, rules) == ["ledger: 'Key unit' is translated '键', the glossary marks '键' wrong"]


def test_the_projects_catalogues_have_no_collision_and_the_real_glossary_parses():
    check = _check()
    assert check.collisions(check.project_translations()) == []
    rules = check.glossary_rules()
    assert (None, "Key unit", ["键"], "/ledger/") in rules
    assert check.wrong_terms(check.project_translations(), rules) == []


def test_a_word_another_installed_catalogue_shows_instead_of_ours_is_reported():
    check = _check()
    # The REST framework's token admin translates "Key" as 键 and wins over a project catalogue.
    problems = check.runtime_overrides({(None, "Key"): {"apps/ledger/…/django.po": "重点"}})
    assert problems and "键" in problems[0]
    assert check.runtime_overrides({(None, "Key unit"): {"apps/ledger/…/django.po": "重点单位"}}) == []
