"""Bulk writers for the scale generator: COPY on PostgreSQL, bulk_create elsewhere. No signals.

Rows are given as dicts of field name → value; every other concrete field takes its model
default, so new fields with defaults in other apps' models do not break the generator.
"""
import json

from django.db import connection, models
from django.utils import timezone


def _fields(model):
    return [f for f in model._meta.concrete_fields
            if f.column and not isinstance(f, models.AutoField | models.BigAutoField)]


def _value(field, row, now):
    if field.name in row:
        value = row[field.name]
    elif field.attname in row:
        value = row[field.attname]
    elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        value = now if isinstance(field, models.DateTimeField) else now.date()
    else:
        value = field.get_default()
    if isinstance(field, models.JSONField) and value is not None:
        value = json.dumps(value, ensure_ascii=False)
    return value


def bulk_insert(model, rows, *, chunk=50000):
    """Insert ``rows`` (iterable of dicts) into ``model``'s table; returns the number written."""
    now = timezone.now()
    fields = _fields(model)
    count = 0
    if connection.vendor == "postgresql":
        cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({cols}) FROM STDIN"
        with connection.cursor() as cursor:
            with cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row([_value(f, row, now) for f in fields])
                    count += 1
        return count
    batch = []
    for row in rows:
        obj = model(**{f.attname: _value(f, row, now) if not isinstance(f, models.JSONField) else row.get(
            f.name, f.get_default()) for f in fields})
        batch.append(obj)
        if len(batch) >= 2000:
            model.objects.bulk_create(batch)
            count += len(batch)
            batch = []
    if batch:
        model.objects.bulk_create(batch)
        count += len(batch)
    return count


def analyze(*models_):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for m in models_:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(m._meta.db_table)}")
