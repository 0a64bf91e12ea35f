"""Excel export and all-or-nothing import of the staff register, and compliance exports."""
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core import scope
from apps.core.excel import (
    Column,
    ImportFileError,
    ImportResult,
    RowErrors,
    SheetRow,
    file_error,
    read_sheet,
    row_clears,
    row_form_data,
)
from apps.ledger.models import Institution

from .choices import FireRole
from .forms import StaffForm
from .models import StaffMember
from .services import save_staff

ROLE_SEP = "、"


def _roles_text(staff):
    return ROLE_SEP.join(str(x) for x in staff.role_labels)


def staff_columns(user=None):
    """The staff columns. With ``user`` (the template) the institution column offers a drop-down
    of the institutions the user may reach; the import matches names itself (see import_staff)."""
    institutions = {}
    if user is not None:
        names = Institution.objects.visible_to(user).order_by("order", "sort_name").values_list("name", flat=True)
        institutions = {name: name for name in names}
    return [
        Column(gettext_lazy("ID"), "pk", "id", 8, gettext_lazy("Leave empty for a new person."), kind="int",
               aliases=("编号",)),
        Column(gettext_lazy("Institution"), "institution.name", "institution", 28, required=True,
               choices=institutions, aliases=("机构名称", "所在机构", "单位", "单位名称"),
               example=next(iter(institutions), "示例：幸福养老院")),
        Column(gettext_lazy("Name"), "name", "name", 12, required=True, aliases=("姓名", "人员姓名"), example="李四"),
        Column(gettext_lazy("Post"), "post", "post", 14, required=True, aliases=("岗位", "职务"), example="护理员"),
        Column(gettext_lazy("Phone"), "phone", "phone", 14, aliases=("电话", "联系电话", "手机", "手机号"),
               example="13900000000"),
        Column(gettext_lazy("Hired on"), "hired_on", "hired_on", 12, required=True, kind="date",
               aliases=("入职日期", "入职时间"), example="2024-03-01"),
        Column(gettext_lazy("Post changed on"), "post_changed_on", "post_changed_on", 12, kind="date",
               aliases=("转岗日期",)),
        Column(gettext_lazy("Left on"), "left_on", "left_on", 12, kind="date", aliases=("离职日期",)),
        Column(gettext_lazy("Fire-safety roles"), _roles_text, "roles", 30,
               gettext_lazy("Separated by 、, e.g. 消防安全管理人、消防控制室值班人员"), aliases=("消防职责", "消防岗位")),
        Column(gettext_lazy("Certificate number"), "certificate_no", "certificate_no", 16, aliases=("证书编号",)),
        Column(gettext_lazy("Certificate expires"), "certificate_expires", "certificate_expires", 12, kind="date",
               aliases=("证书有效期", "证书到期日期")),
    ]


def _parse_roles(value):
    if value in (None, ""):
        return [], None
    labels = {str(label): code for code, label in FireRole.choices}
    codes, bad = [], []
    for part in str(value).replace(",", ROLE_SEP).replace("，", ROLE_SEP).split(ROLE_SEP):
        part = part.strip()
        if not part:
            continue
        code = labels.get(part) or (part if part in FireRole.values else None)
        (codes.append(code) if code else bad.append(part))
    return codes, bad


STAFF_FIELDS = ["institution", "name", "post", "phone", "hired_on", "post_changed_on", "left_on", "roles",
                "certificate_no", "certificate_expires"]


def import_staff(uploaded_file, user, *, confirm_clears=False) -> ImportResult:
    """Create or update staff members. All or nothing, every bad cell listed (see import_institutions)."""
    try:
        sheet = read_sheet(uploaded_file, staff_columns())
    except ImportFileError as exc:
        return file_error(exc)
    institutions = {}
    for inst in Institution.objects.visible_to(user).only("id", "name"):
        institutions.setdefault(inst.name, []).append(inst)
    ids = [r.values["id"] for r in sheet.rows if r.values.get("id") is not None]
    existing = {s.pk: s for s in StaffMember.objects.visible_to(user).select_related("institution")
                .filter(pk__in=ids)}
    errors, forms, clears = RowErrors(sheet), [], []
    for row in sheet.rows:
        for field, message in row.errors.items():
            errors.add(row.number, field, message)
        instance = None
        if row.values.get("id") is not None:
            instance = existing.get(row.values["id"])
            if instance is None:
                errors.add(row.number, "id", _("ID %(id)s is not a staff member you may edit.") % {"id": row.values["id"]})
                continue
        values = dict(row.values)
        name = values.get("institution") or ""
        matches = institutions.get(name, [])
        if len(matches) != 1 or not scope.within_reach(user, "id", matches[0].pk):
            errors.add(row.number, "institution", _("Unknown institution “%(i)s”.") % {"i": name})
            row.errors.setdefault("institution", "")
        else:
            values["institution"] = matches[0].pk
        roles, bad = _parse_roles(values.get("roles"))
        if bad:
            errors.add(row.number, "roles", _("Unknown role: %(r)s") % {"r": ROLE_SEP.join(bad)})
            row.errors.setdefault("roles", "")
        elif "roles" in values:
            values["roles"] = roles or None
        initial = model_to_dict(instance, fields=STAFF_FIELDS) if instance is not None else {}
        if instance is not None:
            initial["institution"] = instance.institution_id
        old_roles = set(instance.roles or []) if instance else set()
        cleared = row_clears(row, instance, sheet)  # before validation writes the row into the instance
        form = StaffForm(data=row_form_data(SheetRow(row.number, values, row.errors), initial, instance),
                         instance=instance, user=user)
        if not form.is_valid():
            errors.add_form(row.number, form, skip=row.errors)
            continue
        if row.errors:
            continue
        clears += cleared
        forms.append((form, old_roles))
    if errors:
        return ImportResult(errors=list(errors))
    if clears and not confirm_clears:
        return ImportResult(count=len(forms), clears=clears)
    with transaction.atomic():
        for form, old_roles in forms:
            save_staff(form.save(commit=False), user, old_roles=old_roles)
    return ImportResult(count=len(forms), clears=clears, saved=True)


def person_columns():
    return [
        Column(gettext_lazy("Institution"), lambda p: p.staff.institution.name, None, 28),
        Column(gettext_lazy("Name"), lambda p: p.staff.name, None, 12),
        Column(gettext_lazy("Post"), lambda p: p.staff.post, None, 14),
        Column(gettext_lazy("Status"), lambda p: str(p.status_display), None, 10),
        Column(gettext_lazy("Since"), lambda p: p.since, None, 12),
        Column(gettext_lazy("Obligations"), lambda p: "；".join(
            f"{o.name}：{o.status_display}" + (f"（{o.due_on}）" if o.due_on else "") for o in p.obligations),
            None, 80),
    ]


def summary_columns(label):
    return [
        Column(label, lambda r: r["name"], None, 28),
        Column(gettext_lazy("Staff"), lambda r: r["staff"], None, 10),
        Column(gettext_lazy("Compliant"), lambda r: r["done"], None, 10),
        Column(gettext_lazy("Due"), lambda r: r["due"], None, 10),
        Column(gettext_lazy("Overdue"), lambda r: r["overdue"], None, 10),
        Column(gettext_lazy("Compliance rate (%)"), lambda r: r["rate"], None, 12),
    ]
