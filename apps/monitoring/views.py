from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.views import ObjectDetailView, ObjectListView

from . import services
from .charts import chart_data
from .choices import CHANNEL_LABELS, OPEN_ALARM_STATES
from .filters import AlarmFilter, DeviceFilter
from .forms import AcknowledgeForm, ClearForm, DeviceForm
from .models import Alarm, Device


class DeviceListView(ObjectListView):
    model = Device
    filterset_class = DeviceFilter
    template_name = "monitoring/device_list.html"
    sort_fields = {"code": "code", "institution": "institution__name", "last_seen": "last_seen", "kind": "kind"}
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
    token = services.rotate_device_token(request.user, device)
    messages.warning(request, _("New device token (shown only once, the old one no longer works): %(token)s")
                     % {"token": token})
    return HttpResponseRedirect(device.get_absolute_url())


class AlarmListView(ObjectListView):
    model = Alarm
    filterset_class = AlarmFilter
    template_name = "monitoring/alarm_list.html"
    sort_fields = {"opened": "opened_at", "last": "last_at", "severity": "severity", "institution": "institution__name"}
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
        obj, token = services.save_device(request.user, form.save(commit=False))
        if token:
            messages.warning(request, _("New device token (shown only once, the old one no longer works): %(token)s")
                             % {"token": token})
        else:
            messages.success(request, _("Saved."))
        return HttpResponseRedirect(obj.get_absolute_url())
    return render(request, "monitoring/device_form.html", {"form": form, "device": device},
                  status=400 if request.method == "POST" else 200)
