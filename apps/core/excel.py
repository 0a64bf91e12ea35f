"""The one Excel helper: safe cells, clerk-ready workbooks, guarded reading and all-or-nothing imports.

Every spreadsheet cell the platform writes goes through :func:`safe_cell` (see docs/import.md).
"""
import csv
import dataclasses
import datetime
import decimal
import io
import math
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_IMPORT_ROWS = 20000
MAX_IMPORT_BYTES = 5 * 1024 * 1024  # the uploaded file
MAX_IMPORT_UNCOMPRESSED = 60 * 1024 * 1024  # what an .xlsx's sheets and strings expand to
MAX_IMPORT_CELLS = 400_000  # cells read, counted while reading (and from the .xls header before)
MAX_IMPORT_COLUMNS = 80  # columns beyond this are not read
HEADER_SCAN_ROWS = 20  # the header row may sit under this many title rows
EXCEL_MAX_TEXT = 32767  # characters a cell can hold
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
REQUIRED_MARK = "＊"
SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")

# The one yes/no table (docs/import.md). Anything else in a yes/no cell is a row error; "是的" is
# deliberately not in it: the edit form offers only a checkbox, and an import accepts only words
# with one reading.
YES_WORDS = ("是", "有", "√", "✓", "✔", "已安装", "已设置", "已配备", "已配置", "Y", "YES", "TRUE", "1")
NO_WORDS = ("否", "无", "没有", "×", "✗", "✘", "X", "不是", "未安装", "未设置", "未配备", "未配置", "N", "NO",
            "FALSE", "0")
YES_NO = {**{w: True for w in YES_WORDS}, **{w: False for w in NO_WORDS}}


def safe_text(value: str) -> str:
    """Text Excel can hold: characters it cannot store dropped, at most one cell's worth."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)[:EXCEL_MAX_TEXT]


def safe_cell(ws, value, *, row=None, column=None, style=None) -> Cell:
    """THE way a value becomes a spreadsheet cell.

    Text is always a text cell: a leading ``= + - @``, tab or CR is kept literally but never
    becomes a formula (explicit string type, marked quote-prefixed so that editing it in Excel
    keeps it text); characters Excel cannot hold are dropped. Aware datetimes become local
    times, dates and numbers stay real dates and numbers, anything else (UUIDs, lazy strings,
    booleans) becomes text.
    """
    if isinstance(value, bool):
        value = _("Yes") if value else _("No")
    elif isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value).replace(tzinfo=None)
    elif isinstance(value, float | decimal.Decimal) and not math.isfinite(value):
        value = str(value)
    elif value is not None and not isinstance(value, int | float | decimal.Decimal | datetime.date | datetime.time
                                              | str):
        value = force_str(value)
    cell = ws.cell(row=row, column=column) if row else Cell(ws)
    if isinstance(value, str):
        text = safe_text(value)
        cell.value = text
        cell.data_type = "s"  # never a formula, whatever the first character
        if text.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True
    else:
        cell.value = value
    if style is not None:
        style(cell)
    return cell


def write_row(ws, values, *, style=None):
    """Append one row of values to ``ws``, every cell through :func:`safe_cell`."""
    ws.append([safe_cell(ws, v, style=style) for v in values])


def sheet_title(title) -> str:
    """A valid worksheet title (Excel forbids ``[]:*?/\\`` and more than 31 characters)."""
    return SHEET_TITLE_BAD.sub("_", safe_text(force_str(title)))[:31] or "Sheet1"


def _header_style(cell):
    cell.font = Font(bold=True)
    cell.fill = PatternFill("solid", fgColor="DDEBF7")
    cell.alignment = Alignment(wrap_text=True, vertical="center")


def print_setup(ws, *, header_rows=1):
    """Landscape, fit to one page wide, header row(s) repeated, page numbers in the footer."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if header_rows:
        ws.print_title_rows = f"1:{header_rows}"
    ws.oddFooter.center.text = _("Page &P of &N")
    ws.evenFooter.center.text = _("Page &P of &N")


def _yes_no_labels():
    return [force_str(_("Yes")), force_str(_("No"))]


@dataclass(eq=False)
class Column:
    """One spreadsheet column: its header, how to read it from an object, how to parse it back.

    ``kind`` says how an imported cell is read: ``text``, ``int``, ``date``, ``bool`` or
    ``choice`` (``choices`` maps display labels to stored values; ``value_aliases`` maps further
    words clerks use). ``aliases`` are other headers accepted for the column on import.
    """

    header: Any
    getter: Callable | str
    field: str | None = None  # form/model field name on import; None: export only
    width: int = 16
    help: Any = ""
    choices: dict = dataclasses.field(default_factory=dict)  # display label -> stored value (import)
    required: bool = False
    kind: str = "text"
    aliases: tuple = ()
    value_aliases: dict = dataclasses.field(default_factory=dict)
    example: Any = None
    # Export only: a value computed from these fields (paths like ``getter``) by ``compute(*values)``,
    # so a big export reads plain rows instead of model objects (see :func:`export_rows`). ``getter``
    # must give the same value from an object.
    values: tuple = ()
    compute: Callable | None = None

    def __post_init__(self):
        if self.choices and self.kind == "text":
            self.kind = "choice"

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
        return value

    def template_header(self):
        return force_str(self.header) + (REQUIRED_MARK if self.required else "")

    def labels(self):
        """The values a template's drop-down offers."""
        if self.kind == "bool":
            return _yes_no_labels()
        return [force_str(k) for k in self.choices]


def build_workbook(title, columns, rows, *, template=False) -> bytes:
    """An .xlsx of ``rows``: Chinese headers, frozen header row, widths, print setup.

    A template (``template=True``) marks required columns with ＊, offers drop-down lists for
    every choice, holds one example row and a second sheet with instructions.
    """
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(title)
    headers = [c.template_header() if template else force_str(c.header) for c in columns]
    write_row(ws, headers, style=_header_style)
    for idx, col in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(idx)].width = max(col.width, len(headers[idx - 1]) * 2 + 2)
    ws.freeze_panes = "A2"
    print_setup(ws)
    for obj in rows:
        write_row(ws, [col.value(obj) for col in columns])
    if template:
        _template_parts(wb, ws, columns)
    elif ws.max_row > 1:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{ws.max_row}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _template_parts(wb, ws, columns):
    """Drop-down lists, an example row and the instruction sheet of an import template."""
    write_row(ws, [col.example if col.field else None for col in columns])
    for cell in ws[2]:
        cell.font = Font(italic=True, color="808080")
    notes = wb.create_sheet(sheet_title(_("Instructions")))
    lists = wb.create_sheet(sheet_title(_("Lists")))
    lists.sheet_state = "hidden"
    for idx, col in enumerate(columns, start=1):
        labels = col.labels() if col.field else []
        if not labels:
            continue
        letter = get_column_letter(idx)
        for n, label in enumerate(labels, start=1):
            safe_cell(lists, label, row=n, column=idx)
        dv = DataValidation(type="list", formula1=f"'{lists.title}'!${letter}$1:${letter}${len(labels)}",
                            allow_blank=not col.required, showErrorMessage=True, errorStyle="warning",
                            errorTitle=_("Not in the list"), error=_("Choose a value from the drop-down list."))
        ws.add_data_validation(dv)
        dv.add(f"{letter}2:{letter}{MAX_IMPORT_ROWS + 1}")
    write_row(notes, [_("Column"), _("Required"), _("How to fill it in")], style=_header_style)
    for col in columns:
        if not col.field:
            continue
        hint = force_str(col.help)
        if col.kind in ("choice", "bool"):
            hint = (hint + " " if hint else "") + _("Choose from the drop-down list: ") + "、".join(col.labels())
        if col.kind == "date":
            hint = (hint + " " if hint else "") + _("A date: 2024-03-01, 2024/3/1, 2024.3.1, 2024年3月1日 or 20240301.")
        write_row(notes, [col.template_header(), _("Yes") if col.required else "", hint])
    notes.append([])
    for line in (_("Columns marked ＊ must be filled in."),
                 _("The grey second row on the first sheet is an example: overwrite or delete it."),
                 _("Title rows above the header row are allowed; the header row must hold the column names."),
                 _("Emptying a cell clears the stored value; the page lists what will be cleared before saving."),
                 _("Yes/no cells: 是/有/√/已安装 mean yes, 否/无/没有/×/不是/未安装 mean no; anything else is refused."),
                 _("Accepted files: .xlsx, .xls and .csv (UTF-8 or GBK).")):
        write_row(notes, [line])
    notes.column_dimensions["A"].width = 26
    notes.column_dimensions["B"].width = 8
    notes.column_dimensions["C"].width = 90
    print_setup(notes)


def export_filename(name, user=None, *, date=None) -> str:
    """``<name>-<scope>-<YYYYMMDD>.xlsx``: the list's Chinese name, the user's scope and the date."""
    parts = [force_str(name)]
    scope = getattr(user, "org_label", "") if user is not None else ""
    if scope:
        parts.append(force_str(scope))
    parts.append((date or timezone.localdate()).strftime("%Y%m%d"))
    return re.sub(r'[\\/:*?"<>|\r\n\t]', "_", "-".join(parts)) + ".xlsx"


def xlsx_response(filename: str, content: bytes, user=None) -> HttpResponse:
    """A download named :func:`export_filename` (RFC 5987 ``filename*`` for the Chinese name)."""
    from .audit import record_download

    name = export_filename(filename, user)
    record_download(name)  # every export goes through here, so every export is in the trail
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def _cell_value(value):
    """What :func:`safe_cell` would store, as a plain value (text, number, date, datetime or None)."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, float | decimal.Decimal) and not math.isfinite(value):
        return str(value)
    if value is not None and not isinstance(value, int | float | decimal.Decimal | datetime.date | datetime.time
                                            | str):
        return force_str(value)
    if isinstance(value, str):
        return safe_text(value)
    return value


def _lean_plan(model, columns):
    """How to read ``columns`` from ``values_list`` rows of ``model`` instead of model objects: the
    field paths to select and one function per column taking the row tuple. ``None`` when a column
    needs the object (a callable getter without ``values``/``compute``, a property, a related object
    shown as text, a reverse relation): the caller then reads objects. Choice labels are read once,
    in the active language, exactly as ``get_FOO_display`` gives them."""
    import operator

    from django.core.exceptions import FieldDoesNotExist
    from django.utils.hashable import make_hashable

    paths, makers = ["pk"], []  # pk first: a DISTINCT queryset stays one row per object

    def field_path(dotted, display_ok):
        current, names = model, []
        parts = dotted.split(".")
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last and part == "pk":
                return "__".join([*names, "pk"]), None
            display = None
            if last and display_ok and part.startswith("get_") and part.endswith("_display"):
                part, display = part[4:-8], True
            try:
                field = current._meta.get_field(part)
            except FieldDoesNotExist:
                return None
            if not getattr(field, "concrete", False) or field.many_to_many:
                return None
            names.append(field.name)
            if not last:
                if not (field.many_to_one or field.one_to_one):
                    return None
                current = field.related_model
                continue
            if field.is_relation:
                return None  # shown as str(related object)
            if display:
                if not field.choices:
                    return None
                labels = {k: force_str(v, strings_only=True) for k, v in dict(make_hashable(field.flatchoices)).items()}
                return "__".join(names), labels
            return "__".join(names), None
        return None

    def index_of(path):
        if path not in paths:
            paths.append(path)
        return paths.index(path)

    for col in columns:
        if col.compute is not None and col.values:
            found = [field_path(v, False) for v in col.values]
            if any(f is None or f[1] is not None for f in found):
                return None
            idx = [index_of(p) for p, _labels in found]
            makers.append(lambda row, idx=idx, fn=col.compute: fn(*[row[i] for i in idx]))
            continue
        if not isinstance(col.getter, str):
            return None
        found = field_path(col.getter, True)
        if found is None:
            return None
        path, labels = found
        i = index_of(path)
        if labels is None:
            makers.append(operator.itemgetter(i))
        else:
            makers.append(lambda row, i=i, labels=labels: _label(labels, row[i]))
    return paths, makers


def _label(labels, value):
    """``get_FOO_display`` from the labels read once: the label, or the value itself when unknown."""
    from django.utils.hashable import make_hashable

    return force_str(labels.get(make_hashable(value), value), strings_only=True)


def export_rows(columns, rows, chunk_size=2000):
    """The cell values (before :func:`_cell_value`) of each row, one list per row.

    ``rows`` may be any iterable of objects; a queryset whose columns can all be read from plain
    field values (:func:`_lean_plan`) is read with ``values_list`` in chunks of ``chunk_size``:
    no model objects, the same values (same scope, filters and order: the queryset's own)."""
    from django.db.models import QuerySet

    if isinstance(rows, QuerySet):
        plan = _lean_plan(rows.model, columns)
        if plan is not None:
            paths, makers = plan
            return ([make(row) for make in makers] for row in rows.values_list(*paths).iterator(chunk_size=chunk_size))
        rows = rows.iterator(chunk_size=chunk_size)
    return ([col.value(obj) for col in columns] for obj in rows)


def _temp_file(suffix):
    import tempfile

    from django.conf import settings

    directory = getattr(settings, "EXPORT_TEMP_DIR", None) or None
    return tempfile.NamedTemporaryFile(suffix=suffix, dir=directory, delete=False)


def stream_xlsx(path, title, columns, rows, progress=None):
    """Write ``rows`` to an .xlsx at ``path`` in constant memory (XlsxWriter's ``constant_memory``:
    each row goes to disk as it is written, text inline). The cells are those of
    :func:`build_workbook`: text never a formula, local times, header row frozen and filtered,
    printed landscape. ``progress(n)`` is called every 5,000 rows. Returns the number of rows."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                    "strings_to_numbers": False, "strings_to_urls": False,
                                    "tmpdir": os.path.dirname(path)})
    ws = wb.add_worksheet(sheet_title(title))
    header = wb.add_format({"bold": True, "bg_color": "#DDEBF7"})
    quoted = wb.add_format({"quote_prefix": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    datetime_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    time_fmt = wb.add_format({"num_format": "hh:mm:ss"})
    headers = [force_str(c.header) for c in columns]
    for idx, col in enumerate(columns):
        ws.set_column(idx, idx, max(col.width, len(headers[idx]) * 2 + 2))
    ws.freeze_panes(1, 0)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_footer("&C" + _("Page &P of &N"))
    for idx, text in enumerate(headers):
        ws.write_string(0, idx, safe_text(text), header)
    n = 0
    for n, values in enumerate(export_rows(columns, rows), start=1):
        for idx, raw in enumerate(values):
            value = _cell_value(raw)
            if value is None:
                continue
            if isinstance(value, str):
                ws.write_string(n, idx, value, quoted if value.startswith(FORMULA_PREFIXES) else None)
            elif isinstance(value, datetime.datetime):
                ws.write_datetime(n, idx, value, datetime_fmt)
            elif isinstance(value, datetime.date):
                ws.write_datetime(n, idx, datetime.datetime.combine(value, datetime.time()), date_fmt)
            elif isinstance(value, datetime.time):
                ws.write_datetime(n, idx, value, time_fmt)
            else:
                ws.write_number(n, idx, value)
        if progress is not None and n % 5000 == 0:
            progress(n)
    if n:
        ws.autofilter(0, 0, n, len(columns) - 1)
    wb.close()
    return n


def stream_csv(path, columns, rows, progress=None):
    """The same rows as UTF-8 CSV (with BOM, so Excel opens the Chinese correctly); a text cell
    starting like a formula gets a leading apostrophe, as Excel itself shows it."""
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([force_str(c.header) for c in columns])
        for n, values in enumerate(export_rows(columns, rows), start=1):
            out = []
            for raw in values:
                value = _cell_value(raw)
                if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
                    value = "'" + value
                elif isinstance(value, datetime.datetime):
                    value = value.strftime("%Y-%m-%d %H:%M:%S")
                out.append("" if value is None else value)
            writer.writerow(out)
            if progress is not None and n % 5000 == 0:
                progress(n)
    return n


def file_download(path, name, content_type):
    """A ``FileResponse`` of ``path`` under ``name``; the file is removed once it is open."""
    from django.http import FileResponse

    from .audit import record_download

    record_download(name)
    fh = open(path, "rb")  # noqa: SIM115  (closed by the response)
    os.unlink(path)  # POSIX: the open handle keeps the data until the response closes it
    return FileResponse(fh, as_attachment=True, filename=name, content_type=content_type)


def export_response(filename, columns, queryset, title=None, user=None, fmt="xlsx"):
    """A download of exactly the rows of ``queryset``: streamed from the database (chunks of
    2,000) into a temporary file in constant memory, answered as a ``FileResponse``; ``fmt``
    ``xlsx`` or ``csv``."""
    rows = queryset  # read in chunks of 2,000 by export_rows (plain values when the columns allow)
    name = export_filename(filename, user)
    tmp = _temp_file("." + fmt)
    tmp.close()
    try:
        if fmt == "csv":
            stream_csv(tmp.name, columns, rows)
            return file_download(tmp.name, name[:-5] + ".csv", "text/csv; charset=utf-8")
        stream_xlsx(tmp.name, title or filename, columns, rows)
        return file_download(tmp.name, name, XLSX_CONTENT_TYPE)
    except BaseException:
        if os.path.exists(tmp.name):
            os.unlink(tmp.name)
        raise


class ImportFileError(Exception):
    """The file as a whole cannot be read (not a spreadsheet, too big, no header row)."""


# ---------------------------------------------------------------- reading an uploaded file


def _read_bytes(uploaded_file) -> bytes:
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > MAX_IMPORT_BYTES:
        raise ImportFileError(_("The file is larger than %(mb)d MB.") % {"mb": MAX_IMPORT_BYTES // (1024 * 1024)})
    data = uploaded_file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFileError(_("The file is larger than %(mb)d MB.") % {"mb": MAX_IMPORT_BYTES // (1024 * 1024)})
    return data


def _too_many_cells():
    return ImportFileError(_("The file has too many cells (at most %(n)d).") % {"n": MAX_IMPORT_CELLS})


def _xlsx_rows(data: bytes):
    """Rows of the first sheet, after checking what the archive expands to (zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            expanded = sum(i.file_size for i in zf.infolist() if i.filename.startswith("xl/"))
    except zipfile.BadZipFile:
        raise ImportFileError(_("The file could not be read as an Excel workbook."))
    # zipfile never yields more than a member's declared size, so the declared sizes bound the work.
    if expanded > MAX_IMPORT_UNCOMPRESSED:
        raise ImportFileError(_("The workbook expands to more than %(mb)d MB; split it into smaller files.")
                              % {"mb": MAX_IMPORT_UNCOMPRESSED // (1024 * 1024)})
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
        cells = 0
        for row in ws.iter_rows(values_only=True):
            cells += len(row)
            if cells > MAX_IMPORT_CELLS:
                raise _too_many_cells()
            yield list(row[:MAX_IMPORT_COLUMNS])
    except ImportFileError:
        raise
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise ImportFileError(_("The file could not be read as an Excel workbook."))


def _xls_rows(data: bytes):
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
        sheet = book.sheet_by_index(0)
    except Exception:  # noqa: BLE001 - xlrd raises many kinds for a damaged file
        raise ImportFileError(_("The file could not be read as an Excel workbook."))
    ncols = min(sheet.ncols, MAX_IMPORT_COLUMNS)
    if sheet.nrows * ncols > MAX_IMPORT_CELLS:
        raise _too_many_cells()
    for r in range(sheet.nrows):
        row = []
        for c in range(min(sheet.row_len(r), ncols)):
            cell = sheet.cell(r, c)
            if cell.ctype == xlrd.XL_CELL_DATE:
                try:
                    row.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
                except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                    row.append(cell.value)
            elif cell.ctype == xlrd.XL_CELL_NUMBER:
                row.append(int(cell.value) if float(cell.value).is_integer() else cell.value)
            elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                row.append(None)
            elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                row.append(bool(cell.value))
            elif cell.ctype == xlrd.XL_CELL_ERROR:
                row.append(None)
            else:
                row.append(cell.value)
        yield row


def _csv_rows(data: bytes):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(_("The CSV file is neither UTF-8 nor GBK text."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    cells = 0
    for row in csv.reader(io.StringIO(text), dialect):
        row = row[:MAX_IMPORT_COLUMNS]
        cells += len(row)
        if cells > MAX_IMPORT_CELLS:
            raise _too_many_cells()
        yield [v if v != "" else None for v in row]


def sheet_rows(uploaded_file):
    """All rows of the first sheet of an uploaded .xlsx, .xls or .csv, with every limit checked."""
    name = (getattr(uploaded_file, "name", "") or "").lower()
    data = _read_bytes(uploaded_file)
    if data.startswith(b"PK\x03\x04"):
        return list(_xlsx_rows(data))
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return list(_xls_rows(data))
    if name.endswith((".csv", ".txt")):
        return list(_csv_rows(data))
    if name.endswith((".xlsx", ".xls", ".xlsm")):
        raise ImportFileError(_("The file could not be read as an Excel workbook."))
    raise ImportFileError(_("Upload an Excel file (.xlsx or .xls) or a CSV file."))


# ---------------------------------------------------------------- reading cells


def normalize_label(text) -> str:
    """What two headers or values are compared by: NFKC (full-width brackets), no spaces, no ＊."""
    text = unicodedata.normalize("NFKC", force_str(text or ""))
    return re.sub(r"[\s*]+", "", text).replace("(必填)", "").replace("必填", "").upper()


DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")


def parse_date(raw) -> datetime.date:
    """A date from a cell: a date, Chinese/ISO text, 20240301 or an Excel serial. ValueError otherwise."""
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = force_str(raw).strip()
    if isinstance(raw, int) or re.fullmatch(r"\d+", text):
        number = int(text)
        if 10000101 <= number <= 99991231:
            return datetime.datetime.strptime(text, "%Y%m%d").date()
        if 1 <= number <= 2958465:
            return from_excel(number).date()
        raise ValueError(text)
    if isinstance(raw, float):
        return from_excel(raw).date()
    match = DATE_TEXT.match(text)
    if not match:
        raise ValueError(text)
    return datetime.date(*(int(g) for g in match.groups()))


def choice_lookup(col):
    """Normalised label -> stored value, for a choice column (labels, codes and aliases)."""
    table = {}
    for label, value in col.choices.items():
        table[normalize_label(label)] = value
        table[normalize_label(value)] = value
    for alias, label in col.value_aliases.items():
        if label in col.choices:
            table.setdefault(normalize_label(alias), col.choices[label])
    return table


def parse_cell(col, raw, lookup=None):
    """The value of one non-empty cell for ``col``; ValueError with a Chinese message otherwise."""
    if isinstance(raw, str):
        raw = raw.strip()
    if col.kind == "bool":
        if isinstance(raw, bool):
            return raw
        key = normalize_label(raw if not isinstance(raw, float) or not raw.is_integer() else int(raw))
        if key in YES_NO:
            return YES_NO[key]
        raise ValueError(_("“%(v)s” is not a yes/no word (use 是 or 否).") % {"v": raw})
    if col.kind == "date":
        try:
            return parse_date(raw)
        except (ValueError, OverflowError):
            raise ValueError(_("“%(v)s” is not a date (write e.g. 2024-03-01).") % {"v": raw})
    if col.kind == "int":
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        if isinstance(raw, int) or re.fullmatch(r"[+-]?\d+", force_str(raw)):
            return int(raw)
        raise ValueError(_("“%(v)s” is not a whole number.") % {"v": raw})
    if col.kind == "choice":
        value = (lookup or choice_lookup(col)).get(normalize_label(raw))
        if value is None:
            labels = col.labels()
            shown = "、".join(labels[:30]) + ("…" if len(labels) > 30 else "")
            raise ValueError(_("“%(v)s” is not one of: %(choices)s") % {"v": raw, "choices": shown})
        return value
    if isinstance(raw, datetime.datetime):
        return raw.date().isoformat() if raw.time() == datetime.time() else raw.isoformat(sep=" ")
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return force_str(raw)


@dataclass
class SheetRow:
    number: int
    values: dict  # field -> parsed value, or None for an empty cell of a present column
    errors: dict  # field -> message, for cells that could not be read


@dataclass
class Sheet:
    header_row: int
    columns: list  # the columns present in the file
    rows: list

    def header(self, field):
        for col in self.columns:
            if col.field == field:
                return force_str(col.header)
        return ""


def _find_header(raw_rows, columns):
    by_label = {}
    for col in columns:
        if col.field:
            for label in (col.header, *col.aliases):
                by_label.setdefault(normalize_label(label), col)
    best = (0, None, {})
    for index, row in enumerate(raw_rows[:HEADER_SCAN_ROWS]):
        positions = {}
        for idx, text in enumerate(row):
            col = by_label.get(normalize_label(text)) if text not in (None, "") else None
            if col is not None and col not in positions.values():
                positions[idx] = col
        if len(positions) > best[0]:
            best = (len(positions), index, positions)
    return best[1], best[2]


def read_sheet(uploaded_file, columns) -> Sheet:
    """Read an uploaded file into parsed rows; file-level problems raise :class:`ImportFileError`."""
    raw_rows = sheet_rows(uploaded_file)
    if not raw_rows:
        raise ImportFileError(_("The workbook is empty."))
    index, positions = _find_header(raw_rows, columns)
    names = "、".join(c.template_header() for c in columns if c.field and c.required)
    if index is None:
        raise ImportFileError(_("No header row was found in the first %(n)d rows. The header row (it may sit under "
                                "title rows) must hold the column names of the template: %(cols)s.")
                              % {"n": HEADER_SCAN_ROWS, "cols": names})
    present = set(positions.values())
    missing = [force_str(c.header) for c in columns if c.field and c.required and c not in present]
    if missing:
        raise ImportFileError(_("Missing columns in the header row (row %(row)d): %(cols)s. The header row must hold "
                                "the column names of the template: %(all)s.")
                              % {"row": index + 1, "cols": "、".join(missing), "all": names})
    lookups = {col: choice_lookup(col) for col in present if col.kind == "choice"}
    example = {idx: normalize_label(col.example) for idx, col in positions.items()}
    rows = []
    for number, row in enumerate(raw_rows[index + 1:], start=index + 2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        if any(example.values()) and all(
                normalize_label(row[idx] if idx < len(row) else None) == text for idx, text in example.items()):
            continue  # the template's example row, left in place
        if len(rows) >= MAX_IMPORT_ROWS:
            raise ImportFileError(_("Too many rows (at most %(n)d).") % {"n": MAX_IMPORT_ROWS})
        values, errors = {}, {}
        for idx, col in positions.items():
            raw = row[idx] if idx < len(row) else None
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                values[col.field] = None
                continue
            try:
                values[col.field] = parse_cell(col, raw, lookups.get(col))
            except ValueError as exc:
                errors[col.field] = str(exc)
        rows.append(SheetRow(number, values, errors))
    return Sheet(index + 1, [c for c in columns if c in present], rows)


class RowErrors:
    """Every problem of an import, one entry per bad cell: ``(row, column header, message)``."""

    def __init__(self, sheet):
        self.sheet = sheet
        self.items = []

    def add(self, row, field, message):
        header = self.sheet.header(field) if field else ""
        self.items.append((row, header, force_str(message)))

    def add_form(self, row, form, skip=()):
        """One entry per field of a bound, invalid form (fields already reported are skipped)."""
        for name, errors in form.errors.items():
            if name in skip:
                continue
            text = "；".join(force_str(e) for e in errors)
            header = self.sheet.header(name) or (force_str(form.fields[name].label) if name in form.fields else "")
            self.items.append((row, header, text))

    def __bool__(self):
        return bool(self.items)

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


@dataclass
class ImportResult:
    """What an import did or would do. Nothing is saved unless ``errors`` is empty."""

    count: int = 0
    errors: list = dataclasses.field(default_factory=list)  # (row, column header, message): one per bad cell
    clears: list = dataclasses.field(default_factory=list)  # (row, record, column header, stored value)
    saved: bool = False


def file_error(exc) -> ImportResult:
    return ImportResult(errors=[(0, "", str(exc))])


def row_form_data(row, initial, instance):
    """Form data for one row: the stored values (or defaults) with the row's cells over them.

    A present column's empty cell clears the stored value of an existing record (for a new
    record it leaves the default); cells that could not be read are left out (already reported).
    """
    data = dict(initial)
    for key, value in row.values.items():
        if key == "id" or key in row.errors:
            continue
        if value is None and instance is None:
            continue
        data[key] = value
    return {k: v for k, v in data.items() if v is not None and v is not False}


def _shown(instance, field):
    value = getattr(instance, field, None)
    display = getattr(instance, f"get_{field}_display", None)
    if display is not None and not isinstance(value, list):
        return force_str(display())
    if isinstance(value, list):
        return "、".join(force_str(v) for v in value)
    if isinstance(value, bool):
        return force_str(_("Yes") if value else _("No"))
    return force_str(value)


def row_clears(row, instance, sheet) -> list:
    """``(row, record, column, stored value)`` for each stored value an emptied cell will clear."""
    if instance is None:
        return []
    out = []
    for key, value in row.values.items():
        if key == "id" or value is not None:
            continue
        stored = getattr(instance, key, None)
        if stored in (None, "", False, [], 0):
            continue
        out.append((row.number, force_str(instance), sheet.header(key), _shown(instance, key)))
    return out
