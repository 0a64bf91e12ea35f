"""Excel export and all-or-nothing import of the staff register, and compliance exports."""
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.excel import Column, ImportFileError, format_form_errors, read_rows
from apps.ledger.models import Institution

from .choices import FireRole
from .forms import StaffForm
from .models import StaffMember
from .services import save_staff

ROLE_SEP = "、"


def _roles_text(staff):
    return ROLE_SEP.join(str(x) for x in staff.role_labels)


def staff_columns():
    return [
        Column(gettext_lazy("ID"), "pk", "id", 8, gettext_lazy("Leave empty for a new person.")),
        Column(gettext_lazy("Institution"), "institution.name", "institution", 28, "required"),
        Column(gettext_lazy("Name"), "name", "name", 12, "required"),
        Column(gettext_lazy("Post"), "post", "post", 14, "required"),
        Column(gettext_lazy("Phone"), "phone", "phone", 14),
        Column(gettext_lazy("Hired on"), "hired_on", "hired_on", 12, "required"),
        Column(gettext_lazy("Post changed on"), "post_changed_on", "post_changed_on", 12),
        Column(gettext_lazy("Left on"), "left_on", "left_on", 12),
        Column(gettext_lazy("Fire-safety roles"), _roles_text, "roles", 30,
               gettext_lazy("Separated by 、, e.g. 消防安全管理人、消防控制室值班人员")),
        Column(gettext_lazy("Certificate number"), "certificate_no", "certificate_no", 16),
        Column(gettext_lazy("Certificate expires"), "certificate_expires", "certificate_expires", 12),
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


def import_staff(uploaded_file, user):
    """Create or update staff members. All or nothing: returns ``(count, errors)``."""
    try:
        rows = read_rows(uploaded_file, staff_columns())
    except ImportFileError as exc:
        return 0, [(0, str(exc))]
    institutions = {}
    for inst in Institution.objects.visible_to(user).only("id", "name"):
        institutions.setdefault(inst.name, []).append(inst)
    ids = [str(v.get("id")).split(".")[0] for _n, v in rows if v.get("id") not in (None, "")]
    existing = {str(s.pk): s for s in StaffMember.objects.visible_to(user).select_related("institution")
                .filter(pk__in=[i for i in ids if i.isdigit()])}
    errors, forms = [], []
    for number, values in rows:
        raw_id = values.get("id")
        instance = None
        if raw_id not in (None, ""):
            instance = existing.get(str(raw_id).split(".")[0])
            if instance is None:
                errors.append((number, _("ID %(id)s is not a staff member you may edit.") % {"id": raw_id}))
                continue
        matches = institutions.get(str(values.get("institution") or ""), [])
        if len(matches) != 1:
            errors.append((number, _("Unknown institution “%(i)s”.") % {"i": values.get("institution") or ""}))
            continue
        roles, bad = _parse_roles(values.get("roles"))
        if bad:
            errors.append((number, _("Unknown role: %(r)s") % {"r": ROLE_SEP.join(bad)}))
            continue
        data = {}
        for key, value in values.items():
            if key in ("id", "roles") or value is None or value == "":
                continue
            if hasattr(value, "date") and callable(value.date):
                value = value.date()
            data[key] = value
        data["institution"] = matches[0].pk
        data["roles"] = roles
        if instance is not None:
            for key in ("post_changed_on", "left_on", "certificate_no", "certificate_expires", "phone"):
                if key not in data and getattr(instance, key):
                    data[key] = getattr(instance, key)
        old_roles = set(instance.roles or []) if instance else set()
        form = StaffForm(data=data, instance=instance, user=user)
        if user.is_institution_user and matches[0].pk != user.institution_id:
            errors.append((number, _("Unknown institution “%(i)s”.") % {"i": values.get("institution")}))
            continue
        if not form.is_valid():
            errors.append((number, format_form_errors(form)))
            continue
        forms.append((form, old_roles))
    if errors:
        return 0, errors
    with transaction.atomic():
        for form, old_roles in forms:
            save_staff(form.save(commit=False), user, old_roles=old_roles)
    return len(forms), []


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
