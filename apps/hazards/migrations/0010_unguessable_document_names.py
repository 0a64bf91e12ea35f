"""Move issued documents stored under guessable names (documents/2026/supervision_order-2026-1.docx)
to random names. The files keep working: they are reached through the record, never by path."""
import os
import re
import uuid

from django.db import migrations

RANDOM_NAME = re.compile(r"^documents/\d{4}/[0-9a-f]{32}\.[a-z0-9]+$")


def rename_documents(apps, schema_editor):
    from django.core.files.storage import default_storage

    OfficialDocument = apps.get_model("hazards", "OfficialDocument")
    for doc in OfficialDocument.objects.exclude(file="").only("pk", "year", "file").iterator():
        old = doc.file.name
        if RANDOM_NAME.match(old) or not default_storage.exists(old):
            continue
        ext = os.path.splitext(old)[1].lower() or ".docx"
        with default_storage.open(old, "rb") as fh:
            new = default_storage.save(f"documents/{doc.year}/{uuid.uuid4().hex}{ext}", fh)
        OfficialDocument.objects.filter(pk=doc.pk).update(file=new)
        default_storage.delete(old)


class Migration(migrations.Migration):
    dependencies = [("hazards", "0009_seed_ledger_rules")]

    operations = [migrations.RunPython(rename_documents, migrations.RunPython.noop)]
