from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.core.excel import Column
from apps.core.views import ObjectDetailView, ObjectListView

from . import services
from .charts import device_chart
from .choices import CHANNEL_LABELS, OPEN_ALARM_STATES, DeadLetterReason
from .filters import AlarmFilter, DeviceFilter
from .forms import AcknowledgeForm, ClearForm, DeviceForm, ThresholdRuleForm
from .models import Alarm, DeadLetter, Device, ThresholdRule


def _duration(seconds):
    """"慢 20 分钟" / "快 3 小时": how far a device clock is off, in words."""
    ahead = seconds > 0
    seconds = abs(int(seconds))
    if seconds >= 86400:
        amount = _("%(n)s days") % {"n": seconds // 86400}
    elif seconds >= 3600:
        amount = _("%(n)s hours") % {"n": seconds // 3600}
    elif seconds >= 60:
        amount = _("%(n)s minutes") % {"n": seconds // 60}
    else:
        amount = _("%(n)s seconds") % {"n": seconds}
    return (_("%(amount)s ahead") if ahead else _("%(amount)s behind")) % {"amount": amount}


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
        return Device.objects.select_related("institution__township", "building").with_last_values()

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
        ctx["chart"] = device_chart(device, timezone.now() - timedelta(days=days), timezone.now())
        values = device.last_values
        ctx["last_values"] = [(CHANNEL_LABELS.get(k, k), v) for k, v in values.items() if k != "ts"]
        ctx["last_reading_at"] = datetime.fromisoformat(values["ts"]) if values else None
        ctx["channel_labels"] = [str(CHANNEL_LABELS.get(c, c)) for c in device.declared_channels]
        if device.clock_offset_seconds is not None:
            ctx["clock_offset"] = _duration(device.clock_offset_seconds)
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
        ctx["chart"] = device_chart(alarm.device, start, end, channels=[alarm.channel])
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


# ---------------------------------------------------------------- dead letters (rejected device messages)

DEAD_LETTERS_PER_PAGE = 50
REPLAY_MAX = 500


def _dead_letter_operator(request):
    """Dead letters belong to no institution: only the platform's operators see them (others: 404)."""
    if not request.user.is_authenticated:
        return False
    if not request.user.can("deadletter.handle"):
        raise Http404
    return True


def _dead_letters_filtered(request):
    qs = DeadLetter.objects.all()
    reason = request.GET.get("reason", "")
    if reason in DeadLetterReason.values:
        qs = qs.filter(reason=reason)
    source = request.GET.get("source", "")
    if source in ("mqtt", "http"):
        qs = qs.filter(source=source)
    state = request.GET.get("state", "")
    if state == "open":
        qs = qs.exclude(replay_result__in=["stored", "duplicate"])
    elif state == "replayed":
        qs = qs.filter(replay_result__in=["stored", "duplicate"])
    q = request.GET.get("q", "").strip()[:64]
    if q:
        qs = qs.filter(Q(device_code__icontains=q) | Q(topic__icontains=q))
    return qs, {"reason": reason, "source": source, "state": state, "q": q}


def dead_letter_list(request):
    if not _dead_letter_operator(request):
        return HttpResponseRedirect(f"/accounts/login/?next={request.path}")
    from django.core.paginator import Paginator

    qs, filters = _dead_letters_filtered(request)
    page = Paginator(qs.order_by("-received_at", "-id"), DEAD_LETTERS_PER_PAGE).get_page(request.GET.get("page"))
    counts = dict(DeadLetter.objects.exclude(replay_result__in=["stored", "duplicate"]).values_list("reason")
                  .annotate(n=Count("id")).values_list("reason", "n"))
    return render(request, "monitoring/dead_letter_list.html", {
        "page_obj": page, "object_list": page.object_list, "filters": filters,
        "reasons": DeadLetterReason.choices, "counts": counts, "replay_max": REPLAY_MAX})


def dead_letter_detail(request, pk):
    if not _dead_letter_operator(request):
        return HttpResponseRedirect(f"/accounts/login/?next={request.path}")
    letter = get_object_or_404(DeadLetter, pk=pk)
    return render(request, "monitoring/dead_letter_detail.html", {"object": letter, "preview": payload_preview(letter)})


def payload_preview(letter):
    """What an operator can read of a payload: the text (JSON pretty-printed), or a hex dump of bytes."""
    import json as _json

    data = letter.payload_bytes
    if letter.payload_encoding == "text":
        text = letter.payload
        try:
            return {"kind": "json", "text": _json.dumps(_json.loads(text.lstrip("\ufeff")), ensure_ascii=False,
                                                         indent=2)[:20000]}
        except ValueError:
            return {"kind": "text", "text": text[:20000]}
    lines = []
    for offset in range(0, min(len(data), 4096), 16):
        chunk = data[offset:offset + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        printable = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:08x}  {hexes:<47}  {printable}")
    return {"kind": "bytes", "text": "\n".join(lines), "size": len(data)}


@require_POST
def dead_letter_replay(request, pk=None):
    """Replay one dead letter, or the (not yet replayed) ones the list's filter selects."""
    if not _dead_letter_operator(request):
        return HttpResponseRedirect(f"/accounts/login/?next={request.path}")
    from .replay import replay

    if pk is not None:
        letter = get_object_or_404(DeadLetter, pk=pk)
        status = replay(letter, request.user)
        if status == "rejected":
            messages.error(request, _("Rejected again: %(reason)s — %(detail)s") % {
                "reason": letter.get_reason_display(), "detail": letter.detail})
        else:
            messages.success(request, _("Replayed: the message was stored."))
        return HttpResponseRedirect(reverse("monitoring:dead_letter_detail", args=[letter.pk]))
    qs, _filters = _dead_letters_filtered(request)
    letters = list(qs.exclude(replay_result__in=["stored", "duplicate"]).order_by("received_at", "id")[:REPLAY_MAX])
    outcome = {"stored": 0, "duplicate": 0, "rejected": 0}
    for letter in letters:
        outcome[replay(letter, request.user)] += 1
    messages.info(request, _("Replayed %(n)s messages: %(stored)s stored, %(duplicate)s already stored, "
                             "%(rejected)s rejected again.") % {"n": len(letters), **outcome})
    return HttpResponseRedirect(reverse("monitoring:dead_letter_list") + "?" + request.GET.urlencode())


# ---------------------------------------------------------------- alarm thresholds by level


def threshold_list(request):
    """The alarm thresholds the user sees, each with where it comes from (来源), and those in force
    for the user's own part of the tree (rules by level, ``apps.orgs.rules``)."""
    if not request.user.is_authenticated:
        return HttpResponseRedirect(f"/accounts/login/?next={request.path}")
    from .evaluation import rules_by_kind

    rules = list(ThresholdRule.objects.visible_to(request.user).select_related("administration")
                 .order_by("channel", "device_kind", "administration__path", "pk"))
    in_force = {r.pk for kinds in rules_by_kind(request.user.org_path).values() for r in kinds.values()}
    return render(request, "monitoring/threshold_list.html", {
        "rules": rules, "in_force": in_force, "may_override": request.user.can("threshold.override"),
        "administration": request.user.administration})


def threshold_edit(request, pk=None):
    """Add an alarm threshold at the user's own administration, or change one of its own."""
    if not request.user.is_authenticated:
        return HttpResponseRedirect(f"/accounts/login/?next={request.path}")
    rule = get_object_or_404(ThresholdRule.objects.visible_to(request.user).select_related("administration"),
                             pk=pk) if pk else None
    if not request.user.can("threshold.override", rule):
        raise PermissionDenied(_("Your role may not do this."))
    initial = {}
    copy = request.GET.get("from", "")
    if rule is None and copy.isdigit():
        base = ThresholdRule.objects.visible_to(request.user).filter(pk=copy).first()
        if base is not None:
            initial = {f: getattr(base, f) for f in ThresholdRuleForm._meta.fields}
    form = ThresholdRuleForm(request.POST or None, instance=rule, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_threshold_rule(request.user, form.save(commit=False))
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("Your role may not do this."))
        else:
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(reverse("monitoring:threshold_list"))
    return render(request, "monitoring/threshold_form.html", {"form": form, "rule": rule,
                                                             "administration": request.user.administration},
                  status=400 if request.method == "POST" else 200)
