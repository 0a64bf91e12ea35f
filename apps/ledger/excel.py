"""Excel template, export and all-or-nothing import of the ledger."""
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.excel import Column, ImportFileError, format_form_errors, read_rows
from apps.orgs.choices import OrgKind
from apps.orgs.models import Organization

from .choices import InstitutionKind, OperatingNature
from .forms import InstitutionForm
from .models import Institution
from .services import save_institution


def _choices(enum):
    return {str(label): value for value, label in enum.choices}


def columns():
    """The ledger columns, in order. The same list serves the template, export and import."""
    yes_no = {"是": True, "否": False, "Yes": True, "No": False, "Y": True, "N": False, "1": True, "0": False}
    return [
        Column(gettext_lazy("ID"), "pk", "id", 8, gettext_lazy("Leave empty for a new institution.")),
        Column(gettext_lazy("Name"), "name", "name", 28, "required"),
        Column(gettext_lazy("Unified social credit code"), "credit_code", "credit_code", 22),
        Column(gettext_lazy("Kind"), "get_kind_display", "kind", 18, "required", _choices(InstitutionKind)),
        Column(gettext_lazy("Operating nature"), "get_nature_display", "nature", 14, "required",
               _choices(OperatingNature)),
        Column(gettext_lazy("Township"), "township.name", "township", 16, "required"),
        Column(gettext_lazy("Address"), "address", "address", 32, "required"),
        Column(gettext_lazy("Licence / filing number"), "licence_no", "licence_no", 18),
        Column(gettext_lazy("Key unit"), "is_key_unit", "is_key_unit", 8, "", yes_no),
        Column(gettext_lazy("Beds"), "beds", "beds", 8),
        Column(gettext_lazy("Residents"), "residents", "residents", 8),
        Column(gettext_lazy("Disabled residents"), "residents_disabled", "residents_disabled", 10),
        Column(gettext_lazy("Bedridden residents"), "residents_bedridden", "residents_bedridden", 10),
        Column(gettext_lazy("Staff"), "staff_count", "staff_count", 8),
        Column(gettext_lazy("Night staff"), "night_staff_count", "night_staff_count", 8),
        Column(gettext_lazy("Sprinklers"), "has_sprinklers", "has_sprinklers", 8, "", yes_no),
        Column(gettext_lazy("Automatic fire alarm"), "has_auto_alarm", "has_auto_alarm", 8, "", yes_no),
        Column(gettext_lazy("Electrical-fire monitoring"), "has_electrical_monitoring", "has_electrical_monitoring",
               8, "", yes_no),
        Column(gettext_lazy("Fire-safety responsible person"), "responsible_person", "responsible_person", 12),
        Column(gettext_lazy("Responsible person's phone"), "responsible_phone", "responsible_phone", 14),
        Column(gettext_lazy("Fire-safety manager"), "manager_name", "manager_name", 12),
        Column(gettext_lazy("Manager's phone"), "manager_phone", "manager_phone", 14),
        Column(gettext_lazy("Maintenance contractor"), "maintenance_contractor", "maintenance_contractor", 20),
        Column(gettext_lazy("Last full facility test"), "last_facility_test", "last_facility_test", 14,
               gettext_lazy("A date such as 2026-05-01.")),
    ]


DEFAULTS = {
    "is_active": True, "beds": 0, "residents": 0, "residents_disabled": 0, "residents_bedridden": 0,
    "staff_count": 0, "night_staff_count": 0, "extinguisher_count": 0,
}


def _form_data(instance, values, townships):
    """Form data for one row: the row's non-empty cells over the existing institution (or defaults).

    An empty cell keeps the stored value; an absent key is an unchecked box or an empty field.
    """
    from django.forms.models import model_to_dict

    from .forms import INSTITUTION_FIELDS

    data = model_to_dict(instance, fields=INSTITUTION_FIELDS) if instance is not None else dict(DEFAULTS)
    for key, value in values.items():
        if key == "id" or value is None or value == "":
            continue
        if key == "township":
            value = townships[str(value)]
        if hasattr(value, "date") and callable(value.date):
            value = value.date()
        data[key] = value
    return {k: v for k, v in data.items() if v is not None and v is not False}


def import_institutions(uploaded_file, user):
    """Import (create or update) institutions. All or nothing.

    Returns ``(count, errors)``; ``errors`` is a list of ``(row_number, reason)`` and nothing is
    saved unless it is empty.
    """
    try:
        rows = read_rows(uploaded_file, columns())
    except ImportFileError as exc:
        return 0, [(0, str(exc))]
    visible = Institution.objects.visible_to(user)
    ids = [v.get("id") for _, v in rows if v.get("id") not in (None, "")]
    existing = {str(i.pk): i for i in visible.filter(pk__in=[i for i in ids if str(i).isdigit()])}
    townships = {o.name: str(o.pk) for o in Organization.objects.filter(kind=OrgKind.TOWNSHIP)}
    errors, forms = [], []
    seen_names = {}
    for number, values in rows:
        raw_id = values.get("id")
        instance = None
        if raw_id not in (None, ""):
            instance = existing.get(str(raw_id).split(".")[0])
            if instance is None:
                errors.append((number, _("ID %(id)s is not an institution you may edit.") % {"id": raw_id}))
                continue
        if values.get("township") not in (None, "") and str(values["township"]) not in townships:
            errors.append((number, _("Unknown township “%(t)s”.") % {"t": values["township"]}))
            continue
        form = InstitutionForm(data=_form_data(instance, values, townships), instance=instance, user=user)
        if not form.is_valid():
            errors.append((number, format_form_errors(form)))
            continue
        key = (form.cleaned_data["township"].pk, form.cleaned_data["name"])
        if key in seen_names:
            errors.append((number, _("Same name and township as row %(row)d.") % {"row": seen_names[key]}))
            continue
        seen_names[key] = number
        forms.append((number, form))
    if errors:
        return 0, errors
    with transaction.atomic():
        for _number, form in forms:
            save_institution(form.save(commit=False), user)
    return len(forms), []
