"""The elderly-care standard's Articles 4(1)–(4) and 5(1)–(3) in the published wording, marked
verified (checked against the notice's published full text; see the file's ``source``). The file is
applied as a new revision, so determinations made before keep the revision they rest on."""
from django.db import migrations


def forward(apps, schema_editor):
    from apps.hazards import rulebook

    RuleSet = apps.get_model("hazards", "RuleSet")
    RuleElement = apps.get_model("hazards", "RuleElement")
    Determination = apps.get_model("hazards", "Determination")
    rulebook.apply(rulebook.validate(rulebook.shipped("mz-elderly-2023.json")), RuleSet, RuleElement, Determination)


class Migration(migrations.Migration):
    dependencies = [("hazards", "0012_hazard_requirements")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
