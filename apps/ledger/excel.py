"""Excel template, export and all-or-nothing import of the ledger (column and value aliases: docs/import.md)."""
import re

from django.db import transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.excel import (
    Column,
    ImportFileError,
    ImportResult,
    RowErrors,
    file_error,
    read_sheet,
    row_clears,
    row_form_data,
)
from apps.orgs.choices import OrgKind
from apps.orgs.models import Organization

from .choices import InstitutionKind, OperatingNature
from .forms import INSTITUTION_FIELDS, InstitutionForm
from .models import Institution
from .services import save_institution

TOWNSHIP_SUFFIX = re.compile(r"(街道办事处|街道|镇|乡)$")

# Words clerks write for a kind (value -> the kind's Chinese label).
KIND_ALIASES = {
    "养老院": "养老机构", "敬老院": "养老机构", "老年公寓": "养老机构", "护理院": "养老机构",
    "儿童福利院": "儿童福利机构", "未成年人保护中心": "未成年人救助保护机构", "救助站": "救助管理站",
    "精神病院": "精神卫生福利机构", "殡仪馆": "殡葬服务机构", "公墓": "殡葬服务机构",
    "特困供养服务机构": "特困供养机构", "农村特困供养服务机构": "特困供养机构",
    "日间照料中心": "社区养老服务设施", "社区养老服务中心": "社区养老服务设施",
}
NATURE_ALIASES = {"公立": "公办", "国有": "公办", "私立": "民办", "民营": "民办", "社会办": "民办", "公办民营": "公建民营"}


def _choices(enum):
    return {str(label): value for value, label in enum.choices}


def township_aliases(names):
    """城关镇 for 城关街道 (and 城关, 城关乡) when exactly one township has that stem."""
    stems = {}
    for name in names:
        stems.setdefault(TOWNSHIP_SUFFIX.sub("", name), []).append(name)
    aliases = {}
    for stem, found in stems.items():
        if len(found) == 1 and stem:
            for suffix in ("", "镇", "乡", "街道", "街道办事处", "办事处"):
                if stem + suffix not in names:
                    aliases[stem + suffix] = found[0]
    return aliases


def columns():
    """The ledger columns, in order. The same list serves the template, export and import."""
    townships = {o.name: str(o.pk) for o in Organization.objects.filter(kind=OrgKind.TOWNSHIP).order_by("order", "sort_name")}
    first_township = next(iter(townships), "")

    def yes_no(header, getter, aliases=(), width=8):
        return Column(header, getter, getter, width, kind="bool", aliases=aliases, example="否")

    return [
        Column(gettext_lazy("ID"), "pk", "id", 8, gettext_lazy("Leave empty for a new institution."), kind="int",
               aliases=("编号", "序号ID")),
        Column(gettext_lazy("Name"), "name", "name", 28, required=True, aliases=("机构名称", "单位名称", "名称"),
               example="示例：幸福养老院"),
        Column(gettext_lazy("Unified social credit code"), "credit_code", "credit_code", 22, aliases=("信用代码",)),
        Column(gettext_lazy("Kind"), "get_kind_display", "kind", 18, required=True,
               choices=_choices(InstitutionKind), aliases=("机构类别", "机构类型", "类型", "类别"), value_aliases=KIND_ALIASES,
               example=str(InstitutionKind.ELDERLY_CARE.label)),
        Column(gettext_lazy("Operating nature"), "get_nature_display", "nature", 14, required=True,
               choices=_choices(OperatingNature), aliases=("性质", "经营性质", "运营方式"),
               value_aliases=NATURE_ALIASES, example=str(OperatingNature.PRIVATE.label)),
        Column(gettext_lazy("Township"), "township.name", "township", 16, required=True, choices=townships,
               aliases=("乡镇", "街道", "所属乡镇", "乡镇街道", "所属街道", "乡镇(街道)"),
               value_aliases=township_aliases(townships), example=first_township),
        Column(gettext_lazy("Address"), "address", "address", 32, required=True, aliases=("机构地址", "详细地址"),
               example="示例路1号"),
        Column(gettext_lazy("Licence / filing number"), "licence_no", "licence_no", 18,
               aliases=("许可证号", "备案号", "设立许可证号")),
        yes_no(gettext_lazy("Key unit"), "is_key_unit", ("是否重点单位", "消防安全重点单位")),
        Column(gettext_lazy("Beds"), "beds", "beds", 8, kind="int", aliases=("床位", "床位数(张)"), example=100),
        Column(gettext_lazy("Residents"), "residents", "residents", 8, kind="int", aliases=("在住人数", "入住人数"),
               example=80),
        Column(gettext_lazy("Disabled residents"), "residents_disabled", "residents_disabled", 10, kind="int",
               example=20),
        Column(gettext_lazy("Bedridden residents"), "residents_bedridden", "residents_bedridden", 10, kind="int",
               example=5),
        Column(gettext_lazy("Staff"), "staff_count", "staff_count", 8, kind="int", aliases=("工作人员数",), example=30),
        Column(gettext_lazy("Night staff"), "night_staff_count", "night_staff_count", 8, kind="int", example=4),
        yes_no(gettext_lazy("Sprinklers"), "has_sprinklers", ("喷淋", "自动喷水灭火系统")),
        yes_no(gettext_lazy("Automatic fire alarm"), "has_auto_alarm", ("报警", "火灾自动报警系统")),
        yes_no(gettext_lazy("Electrical-fire monitoring"), "has_electrical_monitoring",
               ("监控", "电气火灾监控系统")),
        Column(gettext_lazy("Fire-safety responsible person"), "responsible_person", "responsible_person", 12,
               aliases=("消防安全责任人",), example="张三"),
        Column(gettext_lazy("Responsible person's phone"), "responsible_phone", "responsible_phone", 14,
               aliases=("责任人电话", "责任人联系电话"), example="13800000000"),
        Column(gettext_lazy("Fire-safety manager"), "manager_name", "manager_name", 12, aliases=("消防安全管理人",)),
        Column(gettext_lazy("Manager's phone"), "manager_phone", "manager_phone", 14,
               aliases=("管理人电话", "管理人联系电话")),
        Column(gettext_lazy("Maintenance contractor"), "maintenance_contractor", "maintenance_contractor", 20,
               aliases=("维保单位",)),
        Column(gettext_lazy("Last full facility test"), "last_facility_test", "last_facility_test", 14,
               kind="date", aliases=("最近一次全面检测日期", "检测日期")),
    ]


DEFAULTS = {
    "is_active": True, "beds": 0, "residents": 0, "residents_disabled": 0, "residents_bedridden": 0,
    "staff_count": 0, "night_staff_count": 0, "extinguisher_count": 0, "order": 0,
}


def import_institutions(uploaded_file, user, *, confirm_clears=False) -> ImportResult:
    """Import (create or update) institutions. All or nothing.

    Every bad cell is one entry of ``errors`` and nothing is saved unless it is empty. Emptied
    cells of existing institutions are listed in ``clears``; when there are any, nothing is saved
    until the import is repeated with ``confirm_clears=True``.
    """
    cols = columns()
    try:
        sheet = read_sheet(uploaded_file, cols)
    except ImportFileError as exc:
        return file_error(exc)
    visible = Institution.objects.visible_to(user)
    ids = [r.values["id"] for r in sheet.rows if r.values.get("id") is not None]
    existing = {i.pk: i for i in visible.filter(pk__in=ids)}
    errors, forms, clears = RowErrors(sheet), [], []
    seen_names = {}
    for row in sheet.rows:
        for field, message in row.errors.items():
            errors.add(row.number, field, message)
        instance = None
        if row.values.get("id") is not None:
            instance = existing.get(row.values["id"])
            if instance is None:
                errors.add(row.number, "id", _("ID %(id)s is not an institution you may edit.")
                           % {"id": row.values["id"]})
                continue
        initial = model_to_dict(instance, fields=INSTITUTION_FIELDS) if instance is not None else dict(DEFAULTS)
        cleared = row_clears(row, instance, sheet)  # before validation writes the row into the instance
        form = InstitutionForm(data=row_form_data(row, initial, instance), instance=instance, user=user)
        if not form.is_valid():
            errors.add_form(row.number, form, skip=row.errors)
            continue
        if row.errors:
            continue
        key = (form.cleaned_data["township"].pk, form.cleaned_data["name"])
        if key in seen_names:
            errors.add(row.number, "name", _("Same name and township as row %(row)d.") % {"row": seen_names[key]})
            continue
        seen_names[key] = row.number
        clears += cleared
        forms.append(form)
    if errors:
        return ImportResult(errors=list(errors))
    if clears and not confirm_clears:
        return ImportResult(count=len(forms), clears=clears)
    with transaction.atomic():
        for form in forms:
            save_institution(form.save(commit=False), user)
    return ImportResult(count=len(forms), clears=clears, saved=True)
