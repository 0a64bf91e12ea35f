"""The one Excel helper: export rows, read a workbook, import all-or-nothing with row errors."""
import dataclasses
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_IMPORT_ROWS = 20000


@dataclass
class Column:
    """One spreadsheet column: its header, how to read it from an object, how to parse it back."""

    header: Any
    getter: Callable | str
    field: str | None = None  # form/model field name on import; None: export only
    width: int = 16
    help: Any = ""
    choices: dict = dataclasses.field(default_factory=dict)  # display label -> stored value (import)

    def value(self, obj):
        if callable(self.getter):
            return self.getter(obj)
        value = obj
        for part in self.getter.split("."):
            value = getattr(value, part, None)
            if value is None:
                return None
            if callable(value) and not hasattr(value, "pk"):
                value = value()
        if hasattr(value, "pk"):
            return str(value)
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
            return timezone.localtime(value).replace(tzinfo=None)
        return value


def build_workbook(title, columns, rows, *, template=False) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = force_str(title)[:31] or "Sheet1"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for idx, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=idx, value=force_str(col.header))
        cell.font = bold
        cell.fill = fill
        ws.column_dimensions[get_column_letter(idx)].width = col.width
    ws.freeze_panes = "A2"
    if template:
        notes = wb.create_sheet(force_str(_("Instructions")))
        notes.append([force_str(_("Column")), force_str(_("How to fill it in"))])
        for col in columns:
            if col.field:
                hint = force_str(col.help)
                if col.choices:
                    hint = (hint + " " if hint else "") + force_str(_("One of: ")) + "、".join(
                        force_str(k) for k in col.choices)
                notes.append([force_str(col.header), hint])
        notes.column_dimensions["A"].width = 24
        notes.column_dimensions["B"].width = 80
    for obj in rows:
        ws.append([_cell(col.value(obj)) for col in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, int | float | str) or hasattr(value, "isoformat"):
        return value
    return force_str(value)


def xlsx_response(filename: str, content: bytes) -> HttpResponse:
    """The .xlsx download; every export goes through here, so every export is in the trail."""
    from .audit import record_download

    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    record_download(f"{filename}-{stamp}.xlsx")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.xlsx"'
    return response


def export_response(filename, columns, queryset, title=None):
    """An .xlsx download of exactly the rows of ``queryset`` (iterated in chunks)."""
    rows = queryset.iterator(chunk_size=2000) if hasattr(queryset, "iterator") else queryset
    return xlsx_response(filename, build_workbook(title or filename, columns, rows))


class ImportFileError(Exception):
    """The file as a whole cannot be read (not xlsx, wrong headers, too many rows)."""


def read_rows(uploaded_file, columns):
    """Yield (row_number, {field: raw value}) for each non-empty row; headers matched by text."""
    name = getattr(uploaded_file, "name", "") or ""
    if not name.lower().endswith(".xlsx"):
        raise ImportFileError(_("Upload an Excel .xlsx file."))
    try:
        wb = load_workbook(uploaded_file, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise ImportFileError(_("The file could not be read as an Excel workbook."))
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    try:
        header = [force_str(h).strip() if h is not None else "" for h in next(rows)]
    except StopIteration:
        raise ImportFileError(_("The workbook is empty."))
    by_header = {force_str(c.header): c for c in columns if c.field}
    positions = {}
    for idx, text in enumerate(header):
        if text in by_header:
            positions[idx] = by_header[text]
    missing = [h for h, c in by_header.items() if c.field and c.help == "required" and c not in positions.values()]
    if missing:
        raise ImportFileError(_("Missing columns: %(cols)s") % {"cols": "、".join(missing)})
    if not positions:
        raise ImportFileError(_("No known column headers were found. Use the template."))
    out = []
    for number, row in enumerate(rows, start=2):
        if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        if len(out) >= MAX_IMPORT_ROWS:
            raise ImportFileError(_("Too many rows (at most %(n)d).") % {"n": MAX_IMPORT_ROWS})
        values = {}
        for idx, col in positions.items():
            raw = row[idx] if idx < len(row) else None
            if isinstance(raw, str):
                raw = raw.strip()
            if col.choices and raw not in (None, ""):
                raw = col.choices.get(force_str(raw), raw)
            values[col.field] = raw
        out.append((number, values))
    return out


def format_form_errors(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        text = "；".join(force_str(e) for e in errors)
        parts.append(f"{label}：{text}" if label else text)
    return "；".join(parts)
