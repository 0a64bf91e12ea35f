from django.db import migrations


def create_head(apps, schema_editor):
    Head = apps.get_model("core", "AuditChainHead")
    Head.objects.get_or_create(pk=1, defaults={"last_hash": "0" * 64, "count": 0})


class Migration(migrations.Migration):
    dependencies = [("core", "0003_initial")]
    operations = [migrations.RunPython(create_head, migrations.RunPython.noop)]
