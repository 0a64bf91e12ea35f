import django.utils.timezone
from django.db import migrations, models


def backfill(apps, schema_editor):
    """Existing checkpoints: created when the trail recorded their creation, else when their institution
    was entered (never "today", which would hide the patrols missed before the migration)."""
    Checkpoint = apps.get_model("inspections", "Checkpoint")
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditEntry = apps.get_model("core", "AuditEntry")
    ct = ContentType.objects.filter(app_label="inspections", model="checkpoint").first()
    logged = {}
    if ct is not None:
        rows = (AuditEntry.objects.filter(content_type=ct).order_by("time")
                .values_list("object_id", "time"))
        for object_id, time in rows.iterator():
            logged.setdefault(object_id, time)
    for cp in Checkpoint.objects.select_related("institution").iterator():
        created = logged.get(str(cp.pk)) or cp.institution.created
        if created is not None:
            Checkpoint.objects.filter(pk=cp.pk).update(created=created)


class Migration(migrations.Migration):

    dependencies = [
        ("inspections", "0006_frequency_rule_by_level"),
        ("core", "0005_audit_entry_key_id"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("ledger", "0005_order_and_pinyin_sort_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="checkpoint",
            name="created",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="created"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
