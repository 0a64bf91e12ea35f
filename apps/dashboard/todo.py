"""The to-do home (待办): what is waiting on a user or their unit, each count with the list it links to.

Every item is a list page plus its query string; the count is taken through that page's own
filterset over the user's scope (or, for the derived lists, the same function the page calls), so
the number on the home page is the number of rows the link shows. Which items a user gets is a
question to the policy (``user.can``), never a role comparison. A constant number of queries
serves any scope: one count per item, three for the missed patrols (rounds, entry dates, first checkpoints), two for the training obligations.
"""
import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MISSED_PATROL_DAYS = 7
DUE_SOON_DAYS = 3


@dataclass
class Item:
    key: str
    label: object
    count: int
    url: str
    tone: str = "primary"  # a Bootstrap colour: danger for what is late, warning for what is close
    icon: str = "list-check"


@dataclass
class Group:
    key: str
    title: object
    items: list = field(default_factory=list)  # no group total: the items overlap (an overdue one is open too)


@dataclass
class Change:
    key: str
    label: object
    today: int
    yesterday: int
    url: str = ""

    @property
    def delta(self):
        return self.today - self.yesterday


class _Request:
    """What a filterset needs of a request when counting outside one."""

    def __init__(self, user):
        self.user = user
        self.GET = {}


def _link(name, params=(), args=None):
    url = reverse(name, args=args)
    return f"{url}?{urlencode(list(params), doseq=True)}" if params else url


def _count(filterset_class, model, user, params):
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    for key, value in params:
        data.appendlist(key, str(value))
    fs = filterset_class(data, queryset=model.objects.visible_to(user), request=_Request(user))
    if not fs.is_valid():  # never: the parameters are ours
        raise ValueError(fs.errors)
    return fs.qs.count()


def _item(key, label, filterset_class, model, user, url_name, params, **kw):
    return Item(key, label, _count(filterset_class, model, user, params), _link(url_name, params), **kw)


def hazard_items(user, today):
    from apps.hazards.choices import HazardState
    from apps.hazards.filters import HazardFilter, SupervisionFilter
    from apps.hazards.models import Hazard, Supervision

    items = []
    if user.can("hazard.verify"):
        items.append(_item("to_verify", _("Hazards to verify"), HazardFilter, Hazard, user, "hazards:hazard_list",
                           [("state", HazardState.AWAITING_VERIFICATION)], icon="patch-check"))
    if user.can("hazard.require"):
        items.append(_item("to_require", _("New hazards without requirements"), HazardFilter, Hazard, user,
                           "hazards:hazard_list", [("state", HazardState.REGISTERED), ("level", "general"),
                                                   ("required", "0")], icon="clipboard-plus"))
    if user.can("hazard.plan"):
        items.append(_item("to_plan", _("Hazards waiting for a rectification plan"), HazardFilter, Hazard, user,
                           "hazards:hazard_list", [("state", HazardState.REGISTERED)], icon="clipboard"))
        items.append(_item("to_rectify", _("Hazards being rectified"), HazardFilter, Hazard, user,
                           "hazards:hazard_list", [("state", HazardState.RECTIFYING)], icon="tools"))
    items.append(_item("overdue", _("Overdue hazards"), HazardFilter, Hazard, user, "hazards:hazard_list",
                       [("overdue", "1")], tone="danger", icon="alarm"))
    items.append(_item("due_soon", _("Hazards due within 3 days"), HazardFilter, Hazard, user,
                       "hazards:hazard_list", [("due_soon", "1")], tone="warning", icon="hourglass-split"))
    if user.can("supervision.decide_extension"):
        items.append(_item("extensions", _("Extension requests to decide"), SupervisionFilter, Supervision, user,
                           "hazards:supervision_list", [("extension_pending", "1"), ("decided_here", "1")],
                           tone="warning",
                           icon="calendar-plus"))
    if user.can("document.acknowledge"):
        from apps.hazards.filters import DocumentFilter
        from apps.hazards.models import OfficialDocument

        items.append(_item("documents", _("Documents to acknowledge"), DocumentFilter, OfficialDocument, user,
                           "hazards:document_list", [("acknowledged", "0")], icon="envelope-paper"))
    return Group("hazards", _("Hazards"), items)


def missed_patrol_count(user, since, today):
    from apps.inspections.compliance import missed_patrols
    from apps.ledger.models import Institution

    institutions = list(Institution.objects.visible_to(user).filter(is_active=True).only("id", "kind", "created"))
    return sum(len(m) for m in missed_patrols(institutions, since, today).values())


def patrol_items(user, today):
    from apps.inspections.filters import PatrolFilter
    from apps.inspections.models import PatrolRound

    since = today - datetime.timedelta(days=MISSED_PATROL_DAYS)
    items = [
        _item("patrols_today", _("Patrols today"), PatrolFilter, PatrolRound, user, "inspections:patrol_list",
              [("since", today.isoformat()), ("until", today.isoformat())], tone="success", icon="signpost-split"),
        Item("missed_patrols", _("Missed patrols (last 7 days)"), missed_patrol_count(user, since, today),
             _link("inspections:missed_patrols", [("since", since.isoformat())]), tone="danger", icon="moon-stars"),
    ]
    return Group("patrols", _("Patrols"), items)


def alarm_items(user):
    from apps.monitoring.choices import Severity
    from apps.monitoring.filters import AlarmFilter
    from apps.monitoring.models import Alarm

    open_states = [("state", "active"), ("state", "acknowledged")]
    tones = {Severity.CRITICAL: "danger", Severity.WARNING: "warning", Severity.INFO: "secondary"}
    items = [_item(f"alarms_{sev}", _("Active alarms: %(s)s") % {"s": sev.label}, AlarmFilter, Alarm, user,
                   "monitoring:alarms", [*open_states, ("severity", sev.value)], tone=tones[sev],
                   icon="exclamation-triangle")
             for sev in (Severity.CRITICAL, Severity.WARNING, Severity.INFO)]
    return Group("alarms", _("Electrical-fire alarms"), items)


def compliance_people(user, today):
    """Staff with training obligations due or overdue, as the training compliance page counts them."""
    from collections import Counter

    from apps.training.obligations import evaluate
    from apps.training.views import _current_staff

    people = evaluate(_current_staff(user, today), today)
    return Counter(p.status for p in people)


def obligation_items(user, today):
    totals = compliance_people(user, today)
    if user.institution_id:
        url_name, args = "training:compliance_institution", [user.institution_id]
    else:
        url_name, args = "training:compliance", None
    items = [
        Item("training_overdue", _("Staff with overdue training obligations"), totals.get("overdue", 0),
             _link(url_name, [("status", "overdue")], args=args), tone="danger", icon="mortarboard"),
        Item("training_due", _("Staff with training obligations falling due"), totals.get("due", 0),
             _link(url_name, [("status", "due")], args=args), tone="warning", icon="mortarboard"),
    ]
    return Group("obligations", _("Obligations"), items)


def changes_since_yesterday(user, now=None):
    """For leaders: a few figures of today against yesterday (counts over the scope, one query each)."""
    from apps.hazards.models import Hazard
    from apps.monitoring.models import Alarm

    now = now or timezone.now()
    today = timezone.localdate(now)
    yesterday = today - datetime.timedelta(days=1)
    start_today = timezone.make_aware(datetime.datetime.combine(today, datetime.time(0)))
    start_yesterday = start_today - datetime.timedelta(days=1)
    hazards = Hazard.objects.visible_to(user)
    alarms = Alarm.objects.visible_to(user)
    found = hazards.filter(found_at__gte=start_yesterday)
    closed = hazards.filter(closed_at__gte=start_yesterday, state="closed")
    # Overdue now, and as it stood at the start of today (open then: not closed before it).
    open_then = Q(found_at__lt=start_today) & (~Q(state="closed") | Q(closed_at__gte=start_today))
    return [
        Change("found", _("Hazards found"), found.filter(found_at__gte=start_today).count(),
               found.filter(found_at__lt=start_today).count(),
               _link("hazards:hazard_list", [("found_after", today.isoformat())])),
        Change("closed", _("Hazards closed"), closed.filter(closed_at__gte=start_today).count(),
               closed.filter(closed_at__lt=start_today).count(), _link("hazards:list_closed")),
        Change("overdue", _("Overdue hazards"), hazards.overdue(today).count(),
               hazards.filter(open_then, deadline__lt=yesterday).count(),
               _link("hazards:hazard_list", [("overdue", "1")])),
        Change("alarms", _("Alarms raised"), alarms.filter(opened_at__gte=start_today).count(),
               alarms.filter(opened_at__gte=start_yesterday, opened_at__lt=start_today).count(),
               _link("monitoring:alarms", [("opened_from", today.isoformat())])),
    ]


def todo(user, today=None):
    """The groups of the to-do home for ``user`` (and the leaders' changes, or None)."""
    today = today or timezone.localdate()
    groups = [hazard_items(user, today), patrol_items(user, today), alarm_items(user),
              obligation_items(user, today)]
    changes = changes_since_yesterday(user) if user.can("home.changes") else None
    return groups, changes
