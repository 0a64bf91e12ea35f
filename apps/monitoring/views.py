from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.core.audit import acting_as, record_action
from apps.core.excel import Column
from apps.core.views import ObjectDetailView, ObjectListView

from . import services
from .charts import chart_data
from .choices import CHANNEL_LABELS, OPEN_ALARM_STATES
from .filters import AlarmFilter, DeviceFilter
from .forms import AcknowledgeForm, ClearForm, DeviceForm
from .models import Alarm, Device


def _local(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def device_columns():
    return [
        Column(gettext_lazy("Device ID"), "code", width=18),
        Column(gettext_lazy("Name"), "name", width=20),
        Column(gettext_lazy("Kind"), "get_kind_display"),
        Column(gettext_lazy("Institution"), "institution.name", width=28),
        Column(gettext_lazy("Township"), "institution.township.name"),
        Column(gettext_lazy("Place"), "location", width=20),
        Column(gettext_lazy("Circuit"), "circuit"),
        Column(gettext_lazy("Installed on"), "installed_on"),
        Column(gettext_lazy("In service"), "is_active", width=8),
        Column(gettext_lazy("Last seen"), lambda d: _local(d.last_seen), width=18),
        Column(gettext_lazy("Open alarms"), "open_alarms", width=10),
    ]


def alarm_columns():
    return [
        Column(gettext_lazy("ID"), "pk", width=8),
        Column(gettext_lazy("Institution"), "institution.name", width=28),
        Column(gettext_lazy("Township"), "institution.township.name"),
        Column(gettext_lazy("Device ID"), "device.code", width=18),
        Column(gettext_lazy("Type"), "get_kind_display"),
        Column(gettext_lazy("Channel"), "channel_label"),
        Column(gettext_lazy("Severity"), "get_severity_display", width=8),
        Column(gettext_lazy("State"), "get_state_display", width=8),
        Column(gettext_lazy("Threshold"), "threshold", width=10),
        Column(gettext_lazy("Last value"), "last_value", width=10),
        Column(gettext_lazy("Peak"), "peak", width=10),
        Column(gettext_lazy("Repeats"), "count", width=8),
        Column(gettext_lazy("Opened at"), lambda a: _local(a.opened_at), width=18),
        Column(gettext_lazy("Cleared at"), lambda a: _local(a.cleared_at), width=18),
        Column(gettext_lazy("Reason"), "clear_reason", width=24),
    ]


class DeviceListView(ObjectListView):
    model = Device
    filterset_class = DeviceFilter
    template_name = "monitoring/device_list.html"
    export_filename = gettext_lazy("Monitoring devices")

    @property
    def export_columns(self):
        return device_columns()
    sort_fields = {"code": "code", "institution": "institution__sort_name", "last_seen": "last_seen", "kind": "kind"}
    default_sort = "code"

    def base_queryset(self):
        return Device.objects.select_related("institution__township").annotate(
            open_alarms=Count("alarms", filter=Q(alarms__state__in=OPEN_ALARM_STATES)))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["now"] = timezone.now()
        ctx["can_manage"] = self.request.user.can("device.manage")
        return ctx


class DeviceDetailView(ObjectDetailView):
    model = Device
    template_name = "monitoring/device_detail.html"

    def base_queryset(self):
        return Device.objects.select_related("institution__township", "building")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        device = self.object
        try:
            days = max(1, min(int(self.request.GET.get("days", 7)), 366))
        except ValueError:
            days = 7
        ctx["days"] = days
        ctx["day_choices"] = (1, 7, 30, 90)
        ctx["alarms"] = device.alarms.select_related("hazard")[:10]
        ctx["chart"] = chart_data(device, timezone.now() - timedelta(days=days), timezone.now())
        ctx["last_values"] = [(CHANNEL_LABELS.get(k, k), v) for k, v in (device.last_values or {}).items() if k != "ts"]
        ctx["can_manage"] = self.request.user.can("device.manage")
        return ctx


@require_POST
def device_rotate_token(request, pk):
    device = get_object_or_404(Device.objects.visible_to(request.user), pk=pk)
    if not request.user.can("device.manage"):
        raise PermissionDenied(_("Your role may not do this."))
    with transaction.atomic(), acting_as(request.user):
        token = device.rotate_token()
        device.save(update_fields=["token_hash", "token_rotated_at"])
        record_action(device, "monitoring.device.rotate_token", actor=request.user)
    messages.warning(request, _("New device token (shown only once, the old one no longer works): %(token)s")
                     % {"token": token})
    return HttpResponseRedirect(device.get_absolute_url())


class AlarmListView(ObjectListView):
    model = Alarm
    filterset_class = AlarmFilter
    template_name = "monitoring/alarm_list.html"
    export_filename = gettext_lazy("Alarms")

    @property
    def export_columns(self):
        return alarm_columns()
    sort_fields = {"opened": "opened_at", "last": "last_at", "severity": "severity", "institution": "institution__sort_name"}
    default_sort = "-opened"

    def base_queryset(self):
        return Alarm.objects.select_related("device", "institution__township")


class AlarmDetailView(ObjectDetailView):
    model = Alarm
    template_name = "monitoring/alarm_detail.html"

    def base_queryset(self):
        return Alarm.objects.select_related("device", "institution__township", "rule", "hazard", "acknowledged_by",
                                            "cleared_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        alarm = self.object
        ctx["can_handle"] = self.request.user.can("alarm.handle")
        ctx["ack_form"] = AcknowledgeForm()
        ctx["clear_form"] = ClearForm()
        ctx["still_over"] = services.reading_still_abnormal(alarm) if alarm.is_open else None
        start = alarm.opened_at - timedelta(hours=12)
        end = (alarm.cleared_at or timezone.now()) + timedelta(hours=1)
        ctx["chart"] = chart_data(alarm.device, start, end, channels=[alarm.channel])
        return ctx


def _alarm_action(request, pk, form_class, action):
    alarm = get_object_or_404(Alarm.objects.visible_to(request.user), pk=pk)
    if not request.user.can("alarm.handle"):
        raise PermissionDenied(_("Your role may not do this."))
    form = form_class(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, e)
        return HttpResponseRedirect(alarm.get_absolute_url())
    try:
        action(alarm, request.user, *form.cleaned_data.values())
    except ValidationError as exc:
        for e in exc.messages:
            messages.error(request, e)
    else:
        messages.success(request, _("Saved."))
    return HttpResponseRedirect(alarm.get_absolute_url())


@require_POST
def alarm_acknowledge(request, pk):
    return _alarm_action(request, pk, AcknowledgeForm, services.acknowledge)


@require_POST
def alarm_clear(request, pk):
    return _alarm_action(request, pk, ClearForm, services.clear)


def device_edit(request, pk=None):
    """Register a device (its first token is shown once) or edit one."""
    if not request.user.is_authenticated:
        return HttpResponseRedirect(f"/accounts/login/?next={request.path}")
    device = get_object_or_404(Device.objects.visible_to(request.user), pk=pk) if pk else None
    if not request.user.can("device.manage"):
        raise PermissionDenied(_("Your role may not do this."))
    initial = {}
    if device is None and request.GET.get("institution", "").isdigit():
        initial["institution"] = request.GET["institution"]
    form = DeviceForm(request.POST or None, instance=device, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic(), acting_as(request.user):
            obj = form.save(commit=False)
            token = obj.rotate_token() if device is None else None
            obj.save()
        if token:
            messages.warning(request, _("New device token (shown only once, the old one no longer works): %(token)s")
                             % {"token": token})
        else:
            messages.success(request, _("Saved."))
        return HttpResponseRedirect(obj.get_absolute_url())
    return render(request, "monitoring/device_form.html", {"form": form, "device": device},
                  status=400 if request.method == "POST" else 200)
