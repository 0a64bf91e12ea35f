"""The rule sets as the law has them (issue 14): GB 35181-2017 corrected and ended on 2025-10-31,
GB 35181-2025 in force from 2025-11-01, the three civil-affairs standards each for its kinds.

The text comes from the shipped rule set files (``apps/hazards/rulesets/*.json``, the documented
format the bureau also loads). Elements of the earlier seed are renamed to their clause numbers
so that the determinations already recorded keep pointing at the same rows.
"""
from django.db import migrations

RENAMES = {
    "gb35181-2017.json": {"D1": "6.9", "D2": "6.10", "D3": "6.8", "D4": "6.5", "C1": "7.2.1", "C2": "7.2.2",
                          "C3": "7.3.6", "C4": "7.3.7", "C5": "7.3.3", "C6": "7.5", "C7": "7.7.2", "C8": "7.1.1",
                          "C9": "7.1.2", "C10": "7.4.6"},
    "mz-elderly-2023.json": {"M1": "4(1)", "M2": "4(2)", "M3": "4(3)", "M4": "4(4)", "M5": "5(1)", "M6": "5(3)"},
}
FILES = ["gb35181-2017.json", "gb35181-2025.json", "mz-elderly-2023.json", "mz-child-2024.json",
         "mz-mental-2025.json"]


def forward(apps, schema_editor):
    from apps.hazards import rulebook

    RuleSet = apps.get_model("hazards", "RuleSet")
    RuleElement = apps.get_model("hazards", "RuleElement")
    Determination = apps.get_model("hazards", "Determination")
    for name in FILES:
        data = rulebook.validate(rulebook.shipped(name))
        if name in RENAMES:
            data = {**data, "renames": RENAMES[name]}
        rule_set, _changes = rulebook.apply(data, RuleSet, RuleElement, Determination)
        if not rule_set.is_active:
            rule_set.is_active = True
            rule_set.save(update_fields=["is_active"])
    # Determinations recorded before this migration were made under revision 1 of their set.
    Determination.objects.filter(rule_set_revision__isnull=True).update(rule_set_revision=1)


class Migration(migrations.Migration):
    dependencies = [("hazards", "0006_rule_sets_as_the_law_has_them")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
